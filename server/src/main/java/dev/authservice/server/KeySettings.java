package dev.authservice.server;

import dev.authservice.server.keys.SigningAlgorithm;
import java.time.Duration;
import java.util.Optional;

/**
 * Signing keys: the algorithm of new token keys, how often to rotate the token key and the audit
 * checkpoint key (empty: only on demand), the key-encryption key for private keys at rest,
 * whether keys may be stored unencrypted (development only), whether to encrypt, at this
 * start, private keys a development run left unencrypted, and how long before it signs a
 * scheduled rotation publishes the next token key (so that cached JWK Sets hold it in time).
 */
public record KeySettings(SigningAlgorithm algorithm, Optional<Duration> rotationInterval,
    Optional<byte[]> keyEncryptionKey, boolean insecureDevKeys, Optional<Duration> auditRotationInterval,
    boolean encryptPlaintextKeys, Duration publicationLead) {
  /**
   * Audit keys never retire, so every rotation adds a key that GetAuditKeys publishes and every
   * verifier holds for good: quarterly keeps that to four a year while still limiting what one
   * key has signed.
   */
  public static final Duration DEFAULT_AUDIT_ROTATION = Duration.ofDays(90);
  /** The shortest audit key rotation interval: at most 365 keys a year, whatever is configured. */
  public static final Duration MIN_AUDIT_ROTATION = Duration.ofDays(1);
  /**
   * An hour: beyond the longest Cache-Control this server sends (AUTH_JWKS_MAX_AGE, at most PT1H, is
   * checked against it), and beyond the JWKS caches of common gateways (Envoy jwt_authn's
   * {@code cache_duration} defaults to 10 minutes, istiod refreshes every 20).
   */
  public static final Duration DEFAULT_PUBLICATION_LEAD = Duration.ofHours(1);
  public static final Duration MAX_PUBLICATION_LEAD = Duration.ofDays(7);
  public static final KeySettings DEV = new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.empty(), true);

  public KeySettings {
    auditRotationInterval.ifPresent(interval -> {
      if (interval.compareTo(MIN_AUDIT_ROTATION) < 0) {
        throw new IllegalArgumentException("AUTH_AUDIT_KEY_ROTATION_INTERVAL must be at least P1D"
            + " (audit keys are kept forever, so each rotation adds one for good), or PT0S for on demand only; got "
            + interval);
      }
    });
    if (publicationLead.isNegative() || publicationLead.compareTo(MAX_PUBLICATION_LEAD) > 0) {
      throw new IllegalArgumentException("AUTH_KEY_PUBLICATION_LEAD must be between PT0S and " + MAX_PUBLICATION_LEAD
          + ", got " + publicationLead);
    }
    rotationInterval.ifPresent(interval -> {
      if (publicationLead.multipliedBy(2).compareTo(interval) > 0) {
        throw new IllegalArgumentException("AUTH_KEY_PUBLICATION_LEAD (" + publicationLead + ") must be at most half of"
            + " AUTH_KEY_ROTATION_INTERVAL (" + interval + "): the next key is published that long before it signs");
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
    this(algorithm, rotationInterval, keyEncryptionKey, insecureDevKeys, Optional.of(DEFAULT_AUDIT_ROTATION), false,
        rotationInterval.map(i -> DEFAULT_PUBLICATION_LEAD.multipliedBy(2).compareTo(i) > 0 ? i.dividedBy(2)
            : DEFAULT_PUBLICATION_LEAD).orElse(DEFAULT_PUBLICATION_LEAD));
  }

  public KeySettings withAuditRotationInterval(Optional<Duration> interval) {
    return new KeySettings(algorithm, rotationInterval, keyEncryptionKey, insecureDevKeys, interval,
        encryptPlaintextKeys, publicationLead);
  }

  public KeySettings withPublicationLead(Duration lead) {
    return new KeySettings(algorithm, rotationInterval, keyEncryptionKey, insecureDevKeys, auditRotationInterval,
        encryptPlaintextKeys, lead);
  }

  public KeySettings withEncryptPlaintextKeys(boolean encrypt) {
    return new KeySettings(algorithm, rotationInterval, keyEncryptionKey, insecureDevKeys, auditRotationInterval,
        encrypt, publicationLead);
  }

  @Override
  public String toString() {
    return "KeySettings[alg=" + algorithm + ", rotation=" + rotationInterval.map(Duration::toString).orElse("on demand")
        + ", auditRotation=" + auditRotationInterval.map(Duration::toString).orElse("on demand")
        + ", kek=" + (keyEncryptionKey.isPresent() ? "set" : "none") + ", insecureDevKeys=" + insecureDevKeys
        + ", encryptPlaintextKeys=" + encryptPlaintextKeys + ", publicationLead=" + publicationLead + "]";
  }
}
