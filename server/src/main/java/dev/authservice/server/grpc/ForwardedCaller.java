package dev.authservice.server.grpc;

import dev.authservice.server.core.Caller;
import dev.authservice.server.usecase.ExternalAuthorization;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import java.net.InetAddress;
import java.util.Optional;

/**
 * Whom a Check's audit event names. Envoy reports the downstream client (its address, and the
 * principal of its mTLS certificate, e.g. a SPIFFE id) inside the request, where any caller could
 * write anything; so that report is believed only from a caller that may speak for its clients
 * ({@link CallContext#VOUCHED_FOR}: a trusted proxy address, a client certificate, or a bearer token
 * an access rule admitted). Then the event names the downstream client: its address, its principal
 * as the peer identity, its user agent; the Envoy's own bearer username stays the actor. From anyone
 * else the event names the connection, as for Validate, and the report is ignored.
 */
final class ForwardedCaller {
  private static final int MAX_PRINCIPAL = 512;
  private static final int MAX_USER_AGENT = 256;

  private ForwardedCaller() {}

  static Caller of(Caller connection, boolean vouchedFor, AttributeContext.Peer source,
      Optional<ExternalAuthorization.HttpRequest> http) {
    if (!vouchedFor) {
      return connection;
    }
    InetAddress address = ClientAddresses.parseLiteral(source.getAddress().getSocketAddress().getAddress());
    String clientIp = address == null ? connection.clientIp() : address.getHostAddress();
    String userAgent = http.flatMap(h -> h.headers().stream().filter(x -> x.name().equalsIgnoreCase("user-agent"))
        .map(ExternalAuthorization.Header::value).findFirst()).map(ua -> printable(ua, MAX_USER_AGENT))
        .orElse(connection.userAgent());
    return new Caller(clientIp, userAgent, connection.rpcMethod(), connection.actor(),
        printable(source.getPrincipal(), MAX_PRINCIPAL));
  }

  /** Audit text from a report: printable ASCII, bounded. */
  private static String printable(String text, int max) {
    String cut = text.length() > max ? text.substring(0, max) : text;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }
}
