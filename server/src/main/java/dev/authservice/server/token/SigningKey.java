package dev.authservice.server.token;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;

/**
 * One token signing key pair. Each key has exactly one algorithm (RFC 8725 §3.1); the
 * private key never appears in {@link #toString()}.
 */
public record SigningKey(
    String kid, int generation, String algorithm, PrivateKey privateKey, PublicKey publicKey,
    Instant createdAt) {

  @Override
  public String toString() {
    return "SigningKey[kid=" + kid + ", generation=" + generation + ", alg=" + algorithm
        + ", createdAt=" + createdAt + "]";
  }
}
