package dev.authservice.server.keys;

import java.util.List;

/**
 * What one read of a key store found: the keys this server can trust (their private key opened
 * under its key-encryption key and belongs to their public key), the documents it cannot, and
 * the highest generation any document claims, trusted or not, so that a new key never collides
 * with one.
 */
public record StoredKeys(List<SigningKey> trusted, List<UntrustedKey> untrusted, int highestGeneration) {
  public StoredKeys {
    trusted = List.copyOf(trusted);
    untrusted = List.copyOf(untrusted);
  }

  public boolean isEmpty() {
    return trusted.isEmpty() && untrusted.isEmpty();
  }
}
