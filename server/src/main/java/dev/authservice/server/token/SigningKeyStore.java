package dev.authservice.server.token;

import java.time.Instant;
import java.util.List;

/** Durable home of signing keys, shared by every server instance. */
public interface SigningKeyStore {
  List<SigningKey> loadAll();

  /**
   * Adds a key unless another instance already stored one with the same generation; returns
   * whether this key was stored.
   */
  boolean insertIfGenerationFree(SigningKey key);

  /** Sets when a superseded key stops verifying, unless it was set already. */
  void retire(String kid, Instant verifyUntil);
}
