package dev.authservice.server;

import dev.authservice.server.token.SigningAlgorithm;
import java.time.Duration;
import java.util.Optional;

/**
 * Signing keys: the algorithm of new keys, how often to rotate (empty: only on demand), the
 * key-encryption key for private keys at rest, and whether keys may be stored unencrypted
 * (development only).
 */
public record KeySettings(SigningAlgorithm algorithm, Optional<Duration> rotationInterval,
    Optional<byte[]> keyEncryptionKey, boolean insecureDevKeys) {
  public static final KeySettings DEV = new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.empty(), true);

  @Override
  public String toString() {
    return "KeySettings[alg=" + algorithm + ", rotation=" + rotationInterval.map(Duration::toString).orElse("on demand")
        + ", kek=" + (keyEncryptionKey.isPresent() ? "set" : "none") + ", insecureDevKeys=" + insecureDevKeys + "]";
  }
}
