package dev.authservice.embedded;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server side of SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) for one user, in the message
 * forms MongoDB carries in {@code saslStart} and {@code saslContinue}. The server keeps only the
 * stored key and the server key, derived once here: an authentication then costs it a few HMACs,
 * while the client pays the key derivation (which the MongoDB driver caches per client).
 * No channel binding (the store speaks plain TCP on loopback).
 */
final class ScramSha256Server {
  static final String MECHANISM = "SCRAM-SHA-256";
  /**
   * The fewest the driver accepts (RFC 7677's minimum). Iterations slow an offline guess of a
   * weak password; this one is 256 random bits made at each start, so more of them (MongoDB's
   * default is 15,000) would protect nothing and only lengthen every start, on both sides.
   */
  static final int ITERATIONS = 4_096;
  /** Far above what a client sends (a name, a nonce, a proof): longer messages are refused unread. */
  static final int MAX_MESSAGE_CHARS = 1024;
  private static final int SALT_BYTES = 16;
  private static final int NONCE_BYTES = 24;
  private static final int KEY_BYTES = 32;
  private static final String HMAC = "HmacSHA256";

  private final String username;
  private final byte[] salt;
  private final byte[] storedKey;
  private final byte[] serverKey;
  private final SecureRandom random;

  ScramSha256Server(String username, char[] password, SecureRandom random) {
    this.username = username;
    this.random = random;
    this.salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    byte[] saltedPassword = hi(password, salt);
    byte[] clientKey = hmac(saltedPassword, "Client Key");
    this.storedKey = sha256(clientKey);
    this.serverKey = hmac(saltedPassword, "Server Key");
    Arrays.fill(saltedPassword, (byte) 0);
    Arrays.fill(clientKey, (byte) 0);
  }

  /** Reads the client-first message and answers the server-first one, holding what the proof must match. */
  Exchange start(String clientFirst) throws ScramException {
    requireLength(clientFirst);
    // gs2-header: "n" (no channel binding) or "y" (client could bind, thinks the server cannot), no authzid
    if (!clientFirst.startsWith("n,") && !clientFirst.startsWith("y,")) {
      throw new ScramException("the client asked for channel binding, which the embedded store does not offer");
    }
    int headerEnd = clientFirst.indexOf(',', 2);
    if (headerEnd != 2) {
      throw new ScramException(headerEnd < 0 ? "malformed client-first message"
          : "an authorization identity is not supported");
    }
    String gs2Header = clientFirst.substring(0, headerEnd + 1);
    String bare = clientFirst.substring(headerEnd + 1);
    String[] attributes = bare.split(",", -1);
    if (attributes.length < 2 || !attributes[0].startsWith("n=") || !attributes[1].startsWith("r=")) {
      throw new ScramException("malformed client-first message");
    }
    for (int i = 2; i < attributes.length; i++) {
      if (attributes[i].startsWith("m=")) {
        throw new ScramException("a mandatory extension is not supported");
      }
    }
    if (!username.equals(saslName(attributes[0].substring(2)))) {
      throw new ScramException("unknown user");
    }
    String clientNonce = attributes[1].substring(2);
    if (clientNonce.isEmpty() || !clientNonce.chars().allMatch(c -> c >= 0x21 && c <= 0x7e && c != ',')) {
      throw new ScramException("malformed client nonce");
    }
    byte[] serverPart = new byte[NONCE_BYTES];
    random.nextBytes(serverPart);
    String nonce = clientNonce + Base64.getEncoder().encodeToString(serverPart);
    String serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(salt) + ",i=" + ITERATIONS;
    return new Exchange(gs2Header, bare, serverFirst, nonce);
  }

  /** One authentication between its two messages. */
  final class Exchange {
    private final String gs2Header;
    private final String clientFirstBare;
    private final String serverFirst;
    private final String nonce;

    private Exchange(String gs2Header, String clientFirstBare, String serverFirst, String nonce) {
      this.gs2Header = gs2Header;
      this.clientFirstBare = clientFirstBare;
      this.serverFirst = serverFirst;
      this.nonce = nonce;
    }

    String serverFirst() {
      return serverFirst;
    }

    /** Checks the client-final message's proof; answers the server-final message, which proves the server. */
    String finish(String clientFinal) throws ScramException {
      requireLength(clientFinal);
      int proofAt = clientFinal.lastIndexOf(",p=");
      if (proofAt < 0) {
        throw new ScramException("the client-final message has no proof");
      }
      String withoutProof = clientFinal.substring(0, proofAt);
      String[] attributes = withoutProof.split(",", -1);
      String binding = "c=" + Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
      if (attributes.length < 2 || !attributes[0].equals(binding)) {
        throw new ScramException("the channel binding does not repeat the client-first header");
      }
      if (!attributes[1].equals("r=" + nonce)) {
        throw new ScramException("the nonce is not the one of this exchange");
      }
      byte[] proof;
      try {
        proof = Base64.getDecoder().decode(clientFinal.substring(proofAt + 3));
      } catch (IllegalArgumentException e) {
        throw new ScramException("the proof is not base64");
      }
      if (proof.length != KEY_BYTES) {
        throw new ScramException("the proof has the wrong length");
      }
      String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
      byte[] clientSignature = hmac(storedKey, authMessage);
      byte[] clientKey = new byte[KEY_BYTES];
      for (int i = 0; i < KEY_BYTES; i++) {
        clientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
      }
      // constant time: a mismatch tells nothing about how much of the key was right
      if (!MessageDigest.isEqual(sha256(clientKey), storedKey)) {
        throw new ScramException("wrong password");
      }
      return "v=" + Base64.getEncoder().encodeToString(hmac(serverKey, authMessage));
    }
  }

  /** Why an authentication failed: for the server's log, never for the client. */
  static final class ScramException extends Exception {
    ScramException(String reason) {
      super(reason, null, false, false);
    }
  }

  private static void requireLength(String message) throws ScramException {
    if (message.length() > MAX_MESSAGE_CHARS) {
      throw new ScramException("message longer than " + MAX_MESSAGE_CHARS + " characters");
    }
  }

  /** A saslname with its escapes ("=2C" for a comma, "=3D" for an equals sign) undone. */
  private static String saslName(String escaped) throws ScramException {
    StringBuilder name = new StringBuilder(escaped.length());
    for (int i = 0; i < escaped.length(); i++) {
      char c = escaped.charAt(i);
      if (c != '=') {
        name.append(c);
      } else if (escaped.startsWith("=2C", i)) {
        name.append(',');
        i += 2;
      } else if (escaped.startsWith("=3D", i)) {
        name.append('=');
        i += 2;
      } else {
        throw new ScramException("malformed user name");
      }
    }
    return name.toString();
  }

  /** Hi() of RFC 5802 is PBKDF2 with HMAC-SHA-256 and one block of output. */
  private static byte[] hi(char[] password, byte[] salt) {
    PBEKeySpec spec = new PBEKeySpec(password, salt, ITERATIONS, KEY_BYTES * 8);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK lacks PBKDF2WithHmacSHA256", e);
    } finally {
      spec.clearPassword();
    }
  }

  private static byte[] hmac(byte[] key, String message) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK lacks " + HMAC, e);
    }
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK lacks SHA-256", e);
    }
  }
}
