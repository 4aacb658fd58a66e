package dev.authservice.server.keys;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts private keys at rest with AES-256-GCM under the key-encryption key (KEK). The key id
 * is bound in as associated data, so a ciphertext moved onto another key's document fails to
 * open. Without a KEK, keys are stored in the clear, which only the explicit insecure
 * development mode allows. With a KEK, a key stored in the clear is never trusted: anyone who
 * can write to the store could have put it there.
 */
public final class KeyEncryption {
  private static final int NONCE_LENGTH = 12;
  private static final int TAG_BITS = 128;

  private final Optional<SecretKeySpec> kek;
  private final boolean insecureDevKeys;
  private final SecureRandom random = new SecureRandom();

  private KeyEncryption(Optional<SecretKeySpec> kek, boolean insecureDevKeys) {
    this.kek = kek;
    this.insecureDevKeys = insecureDevKeys;
  }

  /**
   * @param kek 32 random bytes, or empty for none
   * @param insecureDevKeys whether keys may be generated and stored without a KEK
   */
  public static KeyEncryption of(Optional<byte[]> kek, boolean insecureDevKeys) {
    kek.ifPresent(k -> {
      if (k.length != 32) {
        throw new IllegalArgumentException("the key-encryption key must be 32 bytes (base64 of 32 random bytes), got "
            + k.length + " bytes");
      }
    });
    return new KeyEncryption(kek.map(k -> new SecretKeySpec(k.clone(), "AES")), insecureDevKeys);
  }

  public boolean hasKek() {
    return kek.isPresent();
  }

  public boolean insecureDevKeys() {
    return insecureDevKeys;
  }

  /** Fails unless new keys may be written: a KEK is set, or insecure development keys are allowed. */
  public void requireMayStoreNewKeys() {
    if (kek.isEmpty() && !insecureDevKeys) {
      throw new IllegalStateException("no key-encryption key: set AUTH_KEY_ENCRYPTION_KEY (base64 of 32 random bytes,"
          + " e.g. `openssl rand -base64 32`) or AUTH_KEY_ENCRYPTION_KEY_FILE; for a throw-away development"
          + " setup only, AUTH_INSECURE_DEV_KEYS=true stores keys unencrypted");
    }
  }

  /** nonce ‖ ciphertext ‖ tag. */
  public byte[] seal(String keyId, byte[] plaintext) {
    SecretKeySpec key = kek.orElseThrow(() -> new IllegalStateException("no key-encryption key"));
    byte[] nonce = new byte[NONCE_LENGTH];
    random.nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(plaintext);
      byte[] out = Arrays.copyOf(nonce, NONCE_LENGTH + sealed.length);
      System.arraycopy(sealed, 0, out, NONCE_LENGTH, sealed.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  /**
   * The plaintext, or empty when the sealed bytes do not open under the KEK with this key id as
   * associated data: another KEK, a ciphertext moved from another key's document, or any edit.
   */
  public Optional<byte[]> open(String keyId, byte[] sealed) {
    SecretKeySpec key = kek.orElseThrow(() -> new IllegalStateException("no key-encryption key"));
    if (sealed.length < NONCE_LENGTH + TAG_BITS / 8) {
      return Optional.empty();
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_LENGTH));
      cipher.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
      return Optional.of(cipher.doFinal(sealed, NONCE_LENGTH, sealed.length - NONCE_LENGTH));
    } catch (AEADBadTagException e) {
      return Optional.empty();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }
}
