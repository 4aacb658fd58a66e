package dev.authservice.server;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Transport security: a PEM certificate chain and PKCS#8 key turn TLS on; a client CA file
 * additionally requires every caller to present a certificate it signed (mutual TLS).
 * Plaintext is allowed on loopback; elsewhere only with {@code allowPlaintext}.
 */
public record TlsSettings(Optional<Path> certFile, Optional<Path> keyFile, Optional<Path> clientCaFile,
    boolean allowPlaintext) {
  public static final TlsSettings NONE = new TlsSettings(Optional.empty(), Optional.empty(), Optional.empty(), false);

  public TlsSettings {
    if (certFile.isPresent() != keyFile.isPresent()) {
      throw new IllegalArgumentException("set both AUTH_TLS_CERT_FILE and AUTH_TLS_KEY_FILE, or neither");
    }
    if (clientCaFile.isPresent() && certFile.isEmpty()) {
      throw new IllegalArgumentException("AUTH_TLS_CLIENT_CA_FILE needs AUTH_TLS_CERT_FILE and AUTH_TLS_KEY_FILE");
    }
  }

  public boolean enabled() {
    return certFile.isPresent();
  }

  public boolean mutual() {
    return clientCaFile.isPresent();
  }
}
