package dev.authservice.server.grpc;

import dev.authservice.server.core.Caller;
import dev.authservice.server.token.VerifiedToken;
import io.grpc.Context;

/** Typed per-call values that {@link CallerInterceptor} puts into the gRPC {@link Context}. */
final class CallContext {
  static final Context.Key<Caller> CALLER = Context.key("auth.caller");
  static final Context.Key<VerifiedToken> PRINCIPAL = Context.key("auth.principal");
  /**
   * Whether the caller may speak for the clients it forwards (Envoy's report of the downstream
   * peer in a Check): its connection comes from a trusted proxy, or it authenticated (a client
   * certificate, or a bearer token admitted by a rule).
   */
  static final Context.Key<Boolean> VOUCHED_FOR = Context.key("auth.vouched-for");

  private CallContext() {}

  static Caller caller() {
    Caller caller = CALLER.get();
    return caller == null ? Caller.unknown() : caller;
  }

  static boolean vouchedFor() {
    return Boolean.TRUE.equals(VOUCHED_FOR.get());
  }

  /** The verified caller of an RPC that requires a bearer token. */
  static VerifiedToken principal() {
    VerifiedToken principal = PRINCIPAL.get();
    if (principal == null) {
      throw new IllegalStateException("no principal: method is missing from AccessPolicy");
    }
    return principal;
  }
}
