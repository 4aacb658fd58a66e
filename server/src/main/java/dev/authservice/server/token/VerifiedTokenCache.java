package dev.authservice.server.token;

import dev.authservice.server.keys.SigningKey;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tokens whose signature and structure were already verified, keyed by the SHA-256 of the whole
 * token (so a token differing in any byte is a miss, and memory per entry stays small), kept
 * until they expire. A hit skips only the cryptography: time, issuer, audience and revocation
 * are still checked on every call, and each entry names the key that verified it, so the caller
 * can refuse a hit whose key has left the key set. Bounded: when full, expired entries go, and
 * if that is not enough, everything.
 */
final class VerifiedTokenCache {
  static final int DEFAULT_CAPACITY = 50_000;

  /** A cached verification: the claims, and the key whose signature they carried. */
  record Hit(VerifiedToken token, SigningKey verifiedWith) {}

  private record Entry(Hit hit, Instant forgetAt) {}

  private final Clock clock;
  private final int capacity;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  VerifiedTokenCache(Clock clock, int capacity) {
    this.clock = clock;
    this.capacity = capacity;
  }

  Optional<Hit> get(String token) {
    Entry entry = entries.get(key(token));
    if (entry == null) {
      return Optional.empty();
    }
    if (!entry.forgetAt().isAfter(clock.instant())) {
      entries.remove(key(token));
      return Optional.empty();
    }
    return Optional.of(entry.hit());
  }

  void forget(String token) {
    entries.remove(key(token));
  }

  void put(String token, VerifiedToken verified, SigningKey verifiedWith, Instant forgetAt) {
    if (entries.size() >= capacity) {
      Instant now = clock.instant();
      entries.values().removeIf(e -> !e.forgetAt().isAfter(now));
      if (entries.size() >= capacity) {
        entries.clear();
      }
    }
    entries.put(key(token), new Entry(new Hit(verified, verifiedWith), forgetAt));
  }

  private static String key(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
