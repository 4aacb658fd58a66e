package dev.authservice.server.grpc;

import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyResponse;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateSigningKeyResponse;
import dev.authservice.server.core.Caller;
import dev.authservice.server.keys.SigningKeys;
import dev.authservice.server.usecase.KeyAdministration;
import io.grpc.stub.StreamObserver;

/** auth.v1.KeyAdminService; the interceptor has already required the {@code admin} role. */
final class KeyAdminServiceImpl extends KeyAdminServiceGrpc.KeyAdminServiceImplBase {
  private final KeyAdministration keys;
  private final Rpcs rpcs;

  KeyAdminServiceImpl(KeyAdministration keys, Rpcs rpcs) {
    this.keys = keys;
    this.rpcs = rpcs;
  }

  @Override
  public void rotateSigningKey(RotateSigningKeyRequest request, StreamObserver<RotateSigningKeyResponse> observer) {
    Caller caller = CallContext.caller();
    rpcs.unary(observer, () -> {
      SigningKeys.Rotation rotation = keys.rotateSigningKey(caller);
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
      SigningKeys.Rotation rotation = keys.rotateAuditSigningKey(caller);
      return RotateAuditSigningKeyResponse.newBuilder()
          .setKid(rotation.active().kid())
          .setAlgorithm(rotation.active().algorithm().jwsName())
          .setPreviousKid(rotation.retired().kid())
          .build();
    });
  }
}
