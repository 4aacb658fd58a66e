package dev.authservice.server.grpc;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.server.audit.write.StoreHealth;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import dev.authservice.server.core.ServiceException;
import java.util.Set;

/**
 * While the store is unreachable, refuses at once, with UNAVAILABLE, every RPC that needs it, so
 * callers are not kept waiting for a driver timeout. Validate and GetJwks work from memory and
 * keep answering (their audit events go to the local spool); health and reflection need nothing.
 */
final class StoreGate implements ServerInterceptor {
  private static final Set<String> SERVED_FROM_MEMORY = Set.of(
      AuthServiceGrpc.getValidateMethod().getFullMethodName(),
      AuthServiceGrpc.getGetJwksMethod().getFullMethodName(),
      AuthServiceGrpc.getGetAuditKeysMethod().getFullMethodName());

  private final StoreHealth health;
  private final Rpcs rpcs;

  StoreGate(StoreHealth health, Rpcs rpcs) {
    this.health = health;
    this.rpcs = rpcs;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    boolean needsStore = method.startsWith("auth.v1.") && !SERVED_FROM_MEMORY.contains(method);
    if (needsStore && !health.reachable()) {
      call.close(rpcs.toStatus(new ServiceException(ServiceException.Kind.UNAVAILABLE,
          "the store is unreachable; this call needs it, retry shortly (Validate keeps working)")), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
