package dev.authservice.server.grpc;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
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
 * Puts the {@link Caller} of every RPC into the context and, for protected methods, checks the
 * {@code authorization: Bearer} token and the role. No or bad token is UNAUTHENTICATED; a valid
 * token without the role is PERMISSION_DENIED. Both refusals are recorded as
 * {@code ACCESS_DENIED} events.
 */
final class CallerInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> USER_AGENT =
      Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> FORWARDED_FOR =
      Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER);
  private static final int MAX_USER_AGENT = 256;

  private final ClientAddresses addresses;
  private final AccessPolicy policy;
  private final TokenVerifier verifier;
  private final AuditLog audit;
  private final Rpcs rpcs;

  CallerInterceptor(ClientAddresses addresses, AccessPolicy policy, TokenVerifier verifier,
      AuditLog audit, Rpcs rpcs) {
    this.addresses = addresses;
    this.policy = policy;
    this.verifier = verifier;
    this.audit = audit;
    this.rpcs = rpcs;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String clientIp = addresses.resolve(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR),
        headers.get(FORWARDED_FOR));
    Caller caller = new Caller(clientIp, truncate(headers.get(USER_AGENT)), method, "",
        peerIdentity(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)));
    Context context = Context.current().withValue(CallContext.CALLER, caller);

    Optional<AccessPolicy.Rule> rule = policy.rule(method);
    if (rule.isEmpty() || (rule.get().clientCertificateSuffices() && !caller.peerIdentity().isEmpty())) {
      return Contexts.interceptCall(context, call, headers, next);
    }
    Set<String> required = rule.get().roles();
    try {
      Optional<String> bearer = bearerToken(headers.get(AUTHORIZATION));
      if (bearer.isEmpty()) {
        return refuse(call, caller, Status.UNAUTHENTICATED.withDescription(
            "this method needs 'authorization: Bearer <access token>' metadata"), "no_bearer_token");
      }
      Verification verification = verifier.verify(bearer.get(), "");
      if (!verification.active()) {
        String reason = verification.failure().orElseThrow().reasonCode();
        return refuse(call, caller, Status.UNAUTHENTICATED.withDescription(
            "the bearer token is not valid (" + reason + "); log in again"), "bad_bearer_token:" + reason);
      }
      VerifiedToken principal = verification.token().orElseThrow();
      Caller identified = caller.withActor(principal.username());
      if (!principal.hasAnyRole(required)) {
        return refuse(call, identified, Status.PERMISSION_DENIED.withDescription(
            "this method needs one of the roles " + required.stream().sorted().toList()),
            "missing_role", principal);
      }
      Context authorized = context.withValue(CallContext.CALLER, identified)
          .withValue(CallContext.PRINCIPAL, principal);
      return Contexts.interceptCall(authorized, call, headers, next);
    } catch (RuntimeException e) {
      call.close(rpcs.toStatus(e), new Metadata());
      return new ServerCall.Listener<>() {};
    }
  }

  private <ReqT> ServerCall.Listener<ReqT> refuse(
      ServerCall<ReqT, ?> call, Caller caller, Status status, String reason) {
    return refuse(call, caller, status, reason, null);
  }

  private <ReqT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, ?> call, Caller caller,
      Status status, String reason, VerifiedToken principal) {
    AuditLog.Entry entry = audit.event(AuditEventType.ACCESS_DENIED, caller);
    if (principal != null) {
      entry.username(principal.username()).subject(principal.subject()).tokenId(principal.tokenId());
    }
    // refused before the method ran: counted with the caller's other refusals, not one document each
    entry.refused(reason);
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** The subject of the verified client certificate, with mutual TLS; empty otherwise. */
  private static String peerIdentity(SSLSession session) {
    if (session == null) {
      return "";
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate x509) {
        return x509.getSubjectX500Principal().getName();
      }
    } catch (SSLPeerUnverifiedException e) {
      // TLS without a client certificate
    }
    return "";
  }

  private static Optional<String> bearerToken(String authorization) {
    if (authorization == null) {
      return Optional.empty();
    }
    String value = authorization.trim();
    if (value.length() < 7 || !value.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
      return Optional.empty();
    }
    String token = value.substring(7).trim();
    return token.isEmpty() ? Optional.empty() : Optional.of(token);
  }

  private static String truncate(String userAgent) {
    if (userAgent == null) {
      return "";
    }
    return userAgent.length() <= MAX_USER_AGENT ? userAgent : userAgent.substring(0, MAX_USER_AGENT);
  }
}
