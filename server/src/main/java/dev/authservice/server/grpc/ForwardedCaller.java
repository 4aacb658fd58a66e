package dev.authservice.server.grpc;

import dev.authservice.server.core.Caller;
import dev.authservice.server.core.TraceParent;
import dev.authservice.server.usecase.ExternalAuthorization;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import java.net.InetAddress;
import java.util.List;
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
    // the trace of the HTTP request Envoy asks about: Envoy's own traceparent on the Check call if it
    // traces, else the request's; a trace id only correlates, so it is taken from anyone
    String traceId = connection.traceId().isEmpty() ? http.flatMap(ForwardedCaller::traceId).orElse("")
        : connection.traceId();
    if (!vouchedFor) {
      return new Caller(connection.clientIp(), connection.userAgent(), connection.rpcMethod(), connection.actor(),
          connection.peerIdentity(), traceId);
    }
    InetAddress address = ClientAddresses.parseLiteral(source.getAddress().getSocketAddress().getAddress());
    String clientIp = address == null ? connection.clientIp() : address.getHostAddress();
    String userAgent = http.flatMap(h -> h.headers().stream().filter(x -> x.name().equalsIgnoreCase("user-agent"))
        .map(ExternalAuthorization.Header::value).findFirst()).map(ua -> printable(ua, MAX_USER_AGENT))
        .orElse(connection.userAgent());
    return new Caller(clientIp, userAgent, connection.rpcMethod(), connection.actor(),
        printable(source.getPrincipal(), MAX_PRINCIPAL), traceId);
  }

  private static Optional<String> traceId(ExternalAuthorization.HttpRequest http) {
    List<String> values = http.headers().stream().filter(h -> h.name().equalsIgnoreCase("traceparent"))
        .map(ExternalAuthorization.Header::value).toList();
    // several traceparent values name no one trace (W3C Trace Context §3.2.2.1 forbids them)
    return values.size() == 1 ? TraceParent.traceId(values.get(0)) : Optional.empty();
  }

  /**
   * Audit text from a report: printable ASCII, bounded; anything else, a code point at a time, is
   * {@code ?}. A loop, not {@code replaceAll}: it runs twice on every Check from a trusted gateway,
   * and a regular expression compiled per call cost Check dearly before (see ExternalAuthorization.isToken68).
   */
  static String printable(String text, int max) {
    String cut = text.length() > max ? text.substring(0, max) : text;
    if (cut.chars().allMatch(ForwardedCaller::isPrintable)) {
      return cut;
    }
    StringBuilder out = new StringBuilder(cut.length());
    cut.codePoints().forEach(c -> out.append(isPrintable(c) ? (char) c : '?'));
    return out.toString();
  }

  private static boolean isPrintable(int c) {
    return c >= 0x20 && c <= 0x7e;
  }
}
