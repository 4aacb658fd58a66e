package dev.authservice.server;

import dev.authservice.server.keys.SigningAlgorithm;
import java.time.Duration;
import java.util.Optional;

/**
 * Signing keys: the algorithm of new token keys, how often to rotate the token key and the audit
 * checkpoint key (empty: only on demand), the key-encryption key for private keys at rest,
 * whether keys may be stored unencrypted (development only), and whether to encrypt, at this
 * start, private keys a development run left unencrypted.
 */
public record KeySettings(SigningAlgorithm algorithm, Optional<Duration> rotationInterval,
    Optional<byte[]> keyEncryptionKey, boolean insecureDevKeys, Optional<Duration> auditRotationInterval,
    boolean encryptPlaintextKeys) {
  /**
   * Audit keys never retire, so every rotation adds a key that GetAuditKeys publishes and every
   * verifier holds for good: quarterly keeps that to four a year while still limiting what one
   * key has signed.
   */
  public static final Duration DEFAULT_AUDIT_ROTATION = Duration.ofDays(90);
  /** The shortest audit key rotation interval: at most 365 keys a year, whatever is configured. */
  public static final Duration MIN_AUDIT_ROTATION = Duration.ofDays(1);
  public static final KeySettings DEV = new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.empty(), true);

  public KeySettings {
    auditRotationInterval.ifPresent(interval -> {
      if (interval.compareTo(MIN_AUDIT_ROTATION) < 0) {
        throw new IllegalArgumentException("AUTH_AUDIT_KEY_ROTATION_INTERVAL must be at least P1D"
            + " (audit keys are kept forever, so each rotation adds one for good), or PT0S for on demand only; got "
            + interval);
      }
    });
    if (encryptPlaintextKeys && keyEncryptionKey.isEmpty()) {
      throw new IllegalArgumentException("AUTH_ENCRYPT_PLAINTEXT_KEYS=true needs the key-encryption key to encrypt"
          + " with: set AUTH_KEY_ENCRYPTION_KEY or AUTH_KEY_ENCRYPTION_KEY_FILE");
    }
  }

  /** Token key settings with the default audit key rotation and no plaintext key migration. */
  public KeySettings(SigningAlgorithm algorithm, Optional<Duration> rotationInterval,
      Optional<byte[]> keyEncryptionKey, boolean insecureDevKeys) {
    this(algorithm, rotationInterval, keyEncryptionKey, insecureDevKeys, Optional.of(DEFAULT_AUDIT_ROTATION), false);
  }

  public KeySettings withAuditRotationInterval(Optional<Duration> interval) {
    return new KeySettings(algorithm, rotationInterval, keyEncryptionKey, insecureDevKeys, interval,
        encryptPlaintextKeys);
  }

  public KeySettings withEncryptPlaintextKeys(boolean encrypt) {
    return new KeySettings(algorithm, rotationInterval, keyEncryptionKey, insecureDevKeys, auditRotationInterval,
        encrypt);
  }

  @Override
  public String toString() {
    return "KeySettings[alg=" + algorithm + ", rotation=" + rotationInterval.map(Duration::toString).orElse("on demand")
        + ", auditRotation=" + auditRotationInterval.map(Duration::toString).orElse("on demand")
        + ", kek=" + (keyEncryptionKey.isPresent() ? "set" : "none") + ", insecureDevKeys=" + insecureDevKeys
        + ", encryptPlaintextKeys=" + encryptPlaintextKeys + "]";
  }
}
