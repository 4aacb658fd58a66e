package dev.authservice.server.keys;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.util.Optional;

/**
 * One token signing key pair with its one algorithm. A key is retired when a newer generation
 * replaces it; it still verifies until {@code verifyUntil}, when the last token it signed has
 * expired. {@code createdAt} is when it starts signing: the moment it was made, or for a key a
 * scheduled rotation published ahead, a lead time later. The private key never appears in
 * {@link #toString()}.
 */
public record SigningKey(
    String kid,
    int generation,
    SigningAlgorithm algorithm,
    PrivateKey privateKey,
    PublicKey publicKey,
    Instant createdAt,
    Optional<Instant> verifyUntil) {

  public boolean verifies(Instant now) {
    return verifyUntil.map(now::isBefore).orElse(true);
  }

  @Override
  public String toString() {
    return "SigningKey[kid=" + kid + ", generation=" + generation + ", alg=" + algorithm
        + ", createdAt=" + createdAt + ", verifyUntil=" + verifyUntil.map(Instant::toString).orElse("-") + "]";
  }
}
