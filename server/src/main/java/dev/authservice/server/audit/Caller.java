package dev.authservice.server.audit;

/**
 * Who made a call, as far as the transport tells: address, user agent, the full gRPC method
 * name and, once a bearer token was verified, the caller's username (empty before that).
 */
public record Caller(String clientIp, String userAgent, String rpcMethod, String actor) {
  public Caller {
    clientIp = clientIp == null ? "" : clientIp;
    userAgent = userAgent == null ? "" : userAgent;
    rpcMethod = rpcMethod == null ? "" : rpcMethod;
    actor = actor == null ? "" : actor;
  }

  public Caller withActor(String username) {
    return new Caller(clientIp, userAgent, rpcMethod, username);
  }
}
