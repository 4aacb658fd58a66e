package dev.authservice.server.keys;

/**
 * A stored key document this server will not use: not to sign, not to verify, not to publish.
 * The kid and generation are as the document claims them; nothing else of it is believed.
 */
public record UntrustedKey(String kid, int generation, Reason reason) {
  private static final java.util.regex.Pattern PLAIN_KID = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /**
   * A stored id as it may go into a log line or a message: a planted document's id could carry
   * line breaks or be huge, so anything but a plain kid is shown escaped and cut short.
   */
  public static String printable(String kid) {
    if (PLAIN_KID.matcher(kid).matches()) {
      return kid;
    }
    StringBuilder out = new StringBuilder("\"");
    kid.codePoints().limit(64).forEach(c -> {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out.appendCodePoint(c);
      } else {
        out.append(String.format("\\u%04x", c & 0xffff));
      }
    });
    return out.append(kid.length() > 64 ? "...\"" : "\"").toString();
  }

  /** Why a stored key cannot be trusted, and what the operator can do about it. */
  public enum Reason {
    PLAINTEXT("its private key is stored unencrypted although a key-encryption key is set",
        "if it is yours (left by a run with AUTH_INSECURE_DEV_KEYS), start once with"
            + " AUTH_ENCRYPT_PLAINTEXT_KEYS=true to encrypt it, then remove that setting; if not, delete the document"),
    NO_KEK("its private key is encrypted but no key-encryption key is configured",
        "set AUTH_KEY_ENCRYPTION_KEY or AUTH_KEY_ENCRYPTION_KEY_FILE to the key it was written with"),
    WRONG_KEK("its private key cannot be decrypted: AUTH_KEY_ENCRYPTION_KEY is not the key it was written with,"
        + " or the document was altered",
        "set the key-encryption key it was written with; if the document was altered, delete it"),
    MISMATCHED("its public key does not belong to its private key: the document was altered",
        "delete the document"),
    UNREADABLE("the document is damaged or not a key this server wrote", "delete the document");

    private final String description;
    private final String remedy;

    Reason(String description, String remedy) {
      this.description = description;
      this.remedy = remedy;
    }

    public String description() {
      return description;
    }

    public String remedy() {
      return remedy;
    }
  }
}
