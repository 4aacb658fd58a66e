package dev.authservice.integrity;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 as lowercase hex, and the hash that comes before the first one. */
public final class Hashes {
  /** {@code prev_hash} of {@code seq} 1: 64 zero hex digits. */
  public static final String ZERO = "0".repeat(64);

  private Hashes() {}

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The event's hash: SHA-256 of the canonical encoding of every field but the hash itself. */
  public static String of(ChainedEvent event) {
    return sha256(CanonicalJson.encode(event.canonicalMembers()));
  }
}
