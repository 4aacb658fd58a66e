package dev.authservice.server.audit;

import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.CheckpointSignatures;
import dev.authservice.server.token.JwkSet;
import dev.authservice.server.token.SigningKey;
import dev.authservice.server.token.SigningKeys;
import java.security.PublicKey;
import java.util.HashMap;
import java.util.Map;

/**
 * Signs checkpoints with the audit signing key: an Ed25519 key kept like the token keys
 * (encrypted at rest, shared by all instances) but in a key set of its own, published apart
 * from the token JWK Set, so no token verifier can be led to accept it.
 */
public final class AuditSigner {
  private final SigningKeys keys;
  private final JwkSet jwks;

  public AuditSigner(SigningKeys auditKeys) {
    this.keys = auditKeys;
    this.jwks = new JwkSet(auditKeys);
  }

  public String sign(Checkpoint checkpoint) {
    SigningKey key = keys.current();
    return CheckpointSignatures.sign(checkpoint, key.privateKey(), key.kid());
  }

  /** Every audit public key, by kid: the keys a verifier trusts. */
  public CheckpointSignatures verifier() {
    Map<String, PublicKey> byKid = new HashMap<>();
    keys.verificationKeys().forEach(k -> byKid.put(k.kid(), k.publicKey()));
    return CheckpointSignatures.of(byKid);
  }

  /** The audit public keys as an RFC 7517 JWK Set. */
  public String jwkSetJson() {
    return jwks.json();
  }
}
