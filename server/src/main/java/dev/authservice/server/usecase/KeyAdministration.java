package dev.authservice.server.usecase;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.core.Caller;
import dev.authservice.server.keys.SigningKeys;

/** The admin's key actions: rotating the token signing key and the audit checkpoint key, each audited. */
public final class KeyAdministration {
  private final SigningKeys tokenKeys;
  private final AuditSigner auditKeys;
  private final AuditLog audit;

  public KeyAdministration(SigningKeys tokenKeys, AuditSigner auditKeys, AuditLog audit) {
    this.tokenKeys = tokenKeys;
    this.auditKeys = auditKeys;
    this.audit = audit;
  }

  public SigningKeys.Rotation rotateSigningKey(Caller caller) {
    SigningKeys.Rotation rotation = tokenKeys.rotate();
    audit.event(AuditEventType.KEY_ROTATE, caller).tokenId("kid:" + rotation.active().kid()).success();
    return rotation;
  }

  public SigningKeys.Rotation rotateAuditSigningKey(Caller caller) {
    SigningKeys.Rotation rotation = auditKeys.rotate();
    audit.event(AuditEventType.KEY_ROTATE, caller).tokenId("audit_kid:" + rotation.active().kid()).success();
    return rotation;
  }
}
