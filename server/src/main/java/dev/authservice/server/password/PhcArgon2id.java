package dev.authservice.server.password;

import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An Argon2id hash in PHC string format as libargon2 writes it:
 * {@code $argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>}, salt and tag in standard base64 without
 * padding. Only that exact shape parses; anything else (another type or version) is not a hash
 * this server checks.
 */
record PhcArgon2id(int memoryKib, int iterations, int parallelism, byte[] salt, byte[] tag) {
  private static final Pattern FORMAT = Pattern.compile(
      "\\$argon2id\\$v=19\\$m=(\\d{1,10}),t=(\\d{1,10}),p=(\\d{1,3})\\$([A-Za-z0-9+/]{11,})\\$([A-Za-z0-9+/]{6,})");
  /** libargon2's limits: salt at least 8 bytes, tag at least 4; bounds keep the numbers in range. */
  private static final int MIN_SALT = 8;
  private static final int MIN_TAG = 4;
  private static final int MAX_TAG = 1024;

  static Optional<PhcArgon2id> parse(String encoded) {
    Matcher m = FORMAT.matcher(encoded);
    if (!m.matches()) {
      return Optional.empty();
    }
    try {
      long memory = Long.parseLong(m.group(1));
      long iterations = Long.parseLong(m.group(2));
      int parallelism = Integer.parseInt(m.group(3));
      byte[] salt = Base64.getDecoder().decode(m.group(4));
      byte[] tag = Base64.getDecoder().decode(m.group(5));
      if (memory > Integer.MAX_VALUE || iterations > Integer.MAX_VALUE || iterations < 1 || parallelism < 1
          || memory < 8L * parallelism || salt.length < MIN_SALT || tag.length < MIN_TAG || tag.length > MAX_TAG) {
        return Optional.empty();
      }
      PhcArgon2id hash = new PhcArgon2id((int) memory, (int) iterations, parallelism, salt, tag);
      // one string per hash, as libargon2 writes it: no leading zeros, no stray base64 bits
      return hash.encoded().equals(encoded) ? Optional.of(hash) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();  // not base64 after all
    }
  }

  String encoded() {
    Base64.Encoder base64 = Base64.getEncoder().withoutPadding();
    return "$argon2id$v=19$m=" + memoryKib + ",t=" + iterations + ",p=" + parallelism + "$"
        + base64.encodeToString(salt) + "$" + base64.encodeToString(tag);
  }
}
