package dev.authservice.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;

/** Reads the key-encryption key from AUTH_KEY_ENCRYPTION_KEY or the file AUTH_KEY_ENCRYPTION_KEY_FILE names. */
final class KeyEncryptionKeys {
  private KeyEncryptionKeys() {}

  static Optional<byte[]> load(Optional<String> base64, Optional<Path> file) {
    if (base64.isPresent() && file.isPresent()) {
      throw new IllegalArgumentException("set AUTH_KEY_ENCRYPTION_KEY or AUTH_KEY_ENCRYPTION_KEY_FILE, not both");
    }
    Optional<String> text = base64;
    if (file.isPresent()) {
      try {
        text = Optional.of(Files.readString(file.get(), StandardCharsets.US_ASCII).trim());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read AUTH_KEY_ENCRYPTION_KEY_FILE " + file.get(), e);
      }
    }
    return text.map(KeyEncryptionKeys::decode);
  }

  private static byte[] decode(String text) {
    byte[] key;
    try {
      key = Base64.getDecoder().decode(text.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the key-encryption key is not base64 (make one with `openssl rand -base64 32`)");
    }
    if (key.length != 32) {
      throw new IllegalArgumentException("the key-encryption key must decode to 32 bytes, got " + key.length
          + " (make one with `openssl rand -base64 32`)");
    }
    return key;
  }
}
