package dev.authservice.server.grpc;

import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyResponse;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateSigningKeyResponse;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.core.Caller;
import dev.authservice.server.keys.SigningKeys;
import io.grpc.stub.StreamObserver;

/** auth.v1.KeyAdminService; the interceptor has already required the {@code admin} role. */
final class KeyAdminServiceImpl extends KeyAdminServiceGrpc.KeyAdminServiceImplBase {
  private final SigningKeys keys;
  private final AuditSigner auditKeys;
  private final AuditLog audit;
  private final Rpcs rpcs;

  KeyAdminServiceImpl(SigningKeys keys, AuditSigner auditKeys, AuditLog audit, Rpcs rpcs) {
    this.keys = keys;
    this.auditKeys = auditKeys;
    this.audit = audit;
    this.rpcs = rpcs;
  }

  @Override
  public void rotateSigningKey(RotateSigningKeyRequest request, StreamObserver<RotateSigningKeyResponse> observer) {
    Caller caller = CallContext.caller();
    rpcs.unary(observer, () -> {
      SigningKeys.Rotation rotation = keys.rotate();
      audit.event(AuditEventType.KEY_ROTATE, caller).tokenId("kid:" + rotation.active().kid()).success();
      RotateSigningKeyResponse.Builder response = RotateSigningKeyResponse.newBuilder()
          .setKid(rotation.active().kid())
          .setAlgorithm(rotation.active().algorithm().jwsName())
          .setRetiredKid(rotation.retired().kid());
      rotation.retiredVerifiesUntil().ifPresent(t -> response.setRetiredKeyExpiresAt(ProtoMapper.timestamp(t)));
      return response.build();
    });
  }

  @Override
  public void rotateAuditSigningKey(RotateAuditSigningKeyRequest request,
      StreamObserver<RotateAuditSigningKeyResponse> observer) {
    Caller caller = CallContext.caller();
    rpcs.unary(observer, () -> {
      SigningKeys.Rotation rotation = auditKeys.rotate();
      audit.event(AuditEventType.KEY_ROTATE, caller).tokenId("audit_kid:" + rotation.active().kid()).success();
      return RotateAuditSigningKeyResponse.newBuilder()
          .setKid(rotation.active().kid())
          .setAlgorithm(rotation.active().algorithm().jwsName())
          .setPreviousKid(rotation.retired().kid())
          .build();
    });
  }
}
