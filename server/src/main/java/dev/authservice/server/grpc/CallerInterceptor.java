package dev.authservice.server.grpc;

import dev.authservice.server.usecase.Authorization;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.TraceParent;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.Verification;
import dev.authservice.server.token.VerifiedToken;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Locale;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.util.Optional;
import java.util.Set;

/**
 * Puts the {@link Caller} of every RPC into the context and, for protected methods, has the
 * {@link Authorization} use case admit the caller (bearer token and role, or client certificate),
 * which records its refusals; the refusals become statuses here.
 */
final class CallerInterceptor implements ServerInterceptor {
  /** As long as a forwarded principal may be ({@link ForwardedCaller}): real subjects are far shorter. */
  static final int MAX_PEER_IDENTITY = 512;
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> USER_AGENT =
      Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> FORWARDED_FOR =
      Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> TRACEPARENT =
      Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
  private static final int MAX_USER_AGENT = 256;

  private final ClientAddresses addresses;
  private final AccessPolicy policy;
  private final Authorization authorization;
  private final Rpcs rpcs;

  CallerInterceptor(ClientAddresses addresses, AccessPolicy policy, Authorization authorization, Rpcs rpcs) {
    this.addresses = addresses;
    this.policy = policy;
    this.authorization = authorization;
    this.rpcs = rpcs;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String clientIp = addresses.resolve(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
        headers.get(FORWARDED_FOR));
    Caller caller = new Caller(clientIp, truncate(headers.get(USER_AGENT)), method, "",
        peerIdentity(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)), traceId(headers));
    boolean vouchedFor = addresses.isTrustedProxy(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR))
        || !caller.peerIdentity().isEmpty();
    Context context = Context.current().withValue(CallContext.CALLER, caller)
        .withValue(CallContext.VOUCHED_FOR, vouchedFor);

    Optional<Authorization.Rule> rule = policy.rule(method);
    if (rule.isEmpty()) {
      return Contexts.interceptCall(context, call, headers, next);
    }
    try {
      Authorization.Admitted admitted = authorization.admit(rule.get(), Optional.ofNullable(headers.get(AUTHORIZATION)),
          caller);
      Context authorized = context.withValue(CallContext.CALLER, admitted.caller());
      if (admitted.principal().isPresent()) {
        authorized = authorized.withValue(CallContext.PRINCIPAL, admitted.principal().get())
            .withValue(CallContext.VOUCHED_FOR, true);
      }
      return Contexts.interceptCall(authorized, call, headers, next);
    } catch (RuntimeException e) {
      call.close(rpcs.toStatus(e), new Metadata());
      return new ServerCall.Listener<>() {};
    }
  }

  /**
   * The subject of the verified client certificate, with mutual TLS, at most
   * {@link #MAX_PEER_IDENTITY} characters; empty otherwise. Only whether it is empty decides
   * anything; the text goes into audit events, whose size a certificate's subject must not set.
   */
  private static String peerIdentity(SSLSession session) {
    if (session == null) {
      return "";
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate x509) {
        return cut(x509.getSubjectX500Principal().getName(), MAX_PEER_IDENTITY);
      }
    } catch (SSLPeerUnverifiedException e) {
      // TLS without a client certificate
    }
    return "";
  }

  /** The W3C trace id of a single valid traceparent header; none for several (the spec's rule) or a malformed one. */
  private static String traceId(Metadata headers) {
    Iterable<String> all = headers.getAll(TRACEPARENT);
    if (all == null) {
      return "";
    }
    java.util.Iterator<String> values = all.iterator();
    String first = values.next();
    return values.hasNext() ? "" : TraceParent.traceId(first).orElse("");
  }

  /** The first {@code max} characters, never half of a surrogate pair. */
  private static String cut(String text, int max) {
    if (text.length() <= max) {
      return text;
    }
    return text.substring(0, Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max);
  }

  private static String truncate(String userAgent) {
    if (userAgent == null) {
      return "";
    }
    return cut(userAgent, MAX_USER_AGENT);
  }
}
