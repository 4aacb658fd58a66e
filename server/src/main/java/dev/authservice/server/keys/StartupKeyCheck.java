package dev.authservice.server.keys;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs at start, before any key signs or verifies: every stored key, token or audit, must be one
 * this server can trust. Private keys left in the clear (by a run with insecure development
 * keys) are encrypted only when the operator asks for it for this start; a plaintext key cannot
 * be told apart from one planted by someone who can write to the store, so encrypting them
 * unasked would make a planted key trusted. Anything else untrusted stops the start with a
 * message naming each kid and what to do.
 */
public final class StartupKeyCheck {
  private static final Logger log = LoggerFactory.getLogger(StartupKeyCheck.class);

  private StartupKeyCheck() {}

  /**
   * @param encryptPlaintext whether to encrypt the private keys stored in the clear
   *     (AUTH_ENCRYPT_PLAINTEXT_KEYS)
   * @throws IllegalStateException naming every stored key that cannot be trusted
   */
  public static void run(List<SigningKeys> keySets, boolean encryptPlaintext) {
    int encrypted = 0;
    List<String> problems = new ArrayList<>();
    for (SigningKeys keys : keySets) {
      if (encryptPlaintext) {
        encrypted += keys.encryptPlaintextKeys().size();
      }
      for (UntrustedKey key : keys.untrustedKeys()) {
        problems.add(keys.storeName() + " kid=" + key.kid() + " (generation " + key.generation() + "): "
            + key.reason().description() + "; to fix: " + key.reason().remedy());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("refusing to start: the store holds keys this server cannot trust: "
          + String.join(". ", problems));
    }
    if (encryptPlaintext) {
      log.warn("AUTH_ENCRYPT_PLAINTEXT_KEYS: {} unencrypted private key(s) encrypted; remove the setting now, so that"
          + " a plaintext key planted in the store later stops the start instead of being trusted", encrypted);
    }
  }
}
