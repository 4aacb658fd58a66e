package dev.authservice.server.keys;

import java.time.Instant;

/** Durable home of signing keys, shared by every server instance. */
public interface SigningKeyStore {
  /** Where the keys live, for messages to the operator (a collection name). */
  String name();

  /**
   * Reads every stored key, sorting them into those this server can trust and those it cannot:
   * with a key-encryption key, only a private key that opens under it (with the kid as
   * associated data) and belongs to the stored public key is trusted.
   */
  StoredKeys load();

  /**
   * Adds a key unless another instance already stored one with the same generation; returns
   * whether this key was stored.
   */
  boolean insertIfGenerationFree(SigningKey key);

  /** Sets when a superseded key stops verifying, unless it was set already. */
  void retire(String kid, Instant verifyUntil);

  /**
   * Encrypts, in place and under the key-encryption key, the private key of a document that holds
   * it unencrypted, if that private key belongs to the document's public key and the document
   * has not changed meanwhile; returns whether it did.
   */
  boolean encryptStoredPlaintext(String kid);
}
