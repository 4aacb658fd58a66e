package dev.authservice.server.core;

/**
 * Who made a call, as far as the transport tells: address, user agent, the full gRPC method
 * name, the subject of a TLS client certificate (mutual TLS), and, once a bearer token was
 * verified, the caller's username; and the W3C trace id of the call when it came with a valid
 * {@code traceparent} ({@link TraceParent}). Unknown parts are empty.
 */
public record Caller(String clientIp, String userAgent, String rpcMethod, String actor, String peerIdentity,
    String traceId) {
  public Caller {
    clientIp = clientIp == null ? "" : clientIp;
    userAgent = userAgent == null ? "" : userAgent;
    rpcMethod = rpcMethod == null ? "" : rpcMethod;
    actor = actor == null ? "" : actor;
    peerIdentity = peerIdentity == null ? "" : peerIdentity;
    traceId = traceId == null ? "" : traceId;
  }

  /** A caller whose call carried no trace context. */
  public Caller(String clientIp, String userAgent, String rpcMethod, String actor, String peerIdentity) {
    this(clientIp, userAgent, rpcMethod, actor, peerIdentity, "");
  }

  public static Caller unknown() {
    return new Caller("", "", "", "", "");
  }

  public Caller withActor(String username) {
    return new Caller(clientIp, userAgent, rpcMethod, username, peerIdentity, traceId);
  }

  /** The strongest identity known, for per-caller limits: certificate, then user, then address. */
  public String identityKey() {
    if (!peerIdentity.isEmpty()) {
      return "cert:" + peerIdentity;
    }
    if (!actor.isEmpty()) {
      return "user:" + actor;
    }
    return "ip:" + clientIp;
  }
}
