package dev.authservice.server.audit.chain;

import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.CheckpointSignatures;
import dev.authservice.server.keys.JwkSet;
import dev.authservice.server.keys.SigningKey;
import dev.authservice.server.keys.SigningKeys;
import java.security.PublicKey;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Signs checkpoints with the audit signing key: an Ed25519 key kept like the token keys
 * (encrypted at rest, shared by all instances) but in a key set of its own, published apart
 * from the token JWK Set, so no token verifier can be led to accept it. Audit keys rotate but
 * never retire: a checkpoint names its key by {@code kid} and verifies for as long as it is kept.
 */
public final class AuditSigner {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AuditSigner.class);
  private final SigningKeys keys;
  private final JwkSet jwks;

  /** @param auditKeys a key set that never retires its keys ({@link SigningKeys#neverRetiring}) */
  public AuditSigner(SigningKeys auditKeys) {
    this.keys = auditKeys;
    this.jwks = new JwkSet(auditKeys);
  }

  public String sign(Checkpoint checkpoint) {
    SigningKey key = keys.current();
    return CheckpointSignatures.sign(checkpoint, key.privateKey(), key.kid());
  }

  /**
   * Every trusted audit public key, by kid: the keys a verifier trusts. Reads the key set afresh,
   * so checkpoints signed with a key another instance has just rotated to verify too.
   */
  public CheckpointSignatures verifier() {
    try {
      keys.reload();
    } catch (RuntimeException e) {
      // the keys in memory were trusted when loaded; verify with them rather than not at all
      log.warn("could not reload the audit keys, verifying with those loaded before: {}", e.toString());
    }
    Map<String, PublicKey> byKid = new HashMap<>();
    keys.verificationKeys().forEach(k -> byKid.put(k.kid(), k.publicKey()));
    return CheckpointSignatures.of(byKid);
  }

  /** The audit public keys as an RFC 7517 JWK Set. */
  public String jwkSetJson() {
    return jwks.json();
  }

  /** Makes a new audit key sign from now on; the previous one keeps verifying. */
  public SigningKeys.Rotation rotate() {
    return keys.rotate();
  }

  /**
   * Re-reads the audit keys (so this instance signs with, and publishes, what another instance
   * rotated to) and rotates when the signing key is older than {@code interval}, if one is set.
   */
  public void refresh(java.util.Optional<Duration> interval) {
    if (interval.isPresent()) {
      keys.rotateIfOlderThan(interval.get());
    } else {
      keys.reload();
    }
  }
}
