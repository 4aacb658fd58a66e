package dev.authservice.server.token;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's key set. The newest generation signs; every key verifies until the last token
 * it signed has expired. Generations are unique in the store, so when several instances start
 * on an empty store, or rotate at once, exactly one key wins each generation and all instances
 * agree on it after their next reload.
 */
public final class SigningKeys {
  private static final Logger log = LoggerFactory.getLogger(SigningKeys.class);
  static final int MAX_MISS_RELOADS_PER_SECOND = 20;

  private final SigningKeyStore store;
  private final Clock clock;
  private final SigningAlgorithm algorithm;
  private final Duration maxTokenLifetime;
  private final SecureRandom random = new SecureRandom();
  private volatile Map<String, SigningKey> byKid = Map.of();
  private volatile SigningKey current;
  private final Map<String, Instant> recentMisses = new java.util.LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
      return size() > 1000;
    }
  };
  private Instant missWindowStart = Instant.EPOCH;
  private int missReloadsInWindow;

  /**
   * @param maxTokenLifetime how long a token signed now may stay valid: its TTL plus the clock
   *     skew allowed; a retired key verifies for this long after it stops signing
   */
  public SigningKeys(SigningKeyStore store, Clock clock, SigningAlgorithm algorithm, Duration maxTokenLifetime) {
    this.store = store;
    this.clock = clock;
    this.algorithm = algorithm;
    this.maxTokenLifetime = maxTokenLifetime;
  }

  /** Loads the stored keys, generating the first one if the store has none. */
  public void loadOrCreate() {
    List<SigningKey> keys = store.loadAll();
    if (keys.isEmpty()) {
      SigningKey first = generate(1);
      if (store.insertIfGenerationFree(first)) {
        log.info("generated signing key kid={} alg={}", first.kid(), first.algorithm());
      }
      keys = store.loadAll();
    }
    install(keys);
  }

  /** Re-reads the key set from the store, so rotations by other instances take effect. */
  public void reload() {
    install(store.loadAll());
  }

  /**
   * Makes a new key of the configured algorithm the signing key and retires the previous ones.
   */
  public Rotation rotate() {
    reload();
    SigningKey previous = current;
    SigningKey next = generate(previous.generation() + 1);
    if (!store.insertIfGenerationFree(next)) {
      // another instance rotated at the same moment: adopt its key instead of stacking two
      reload();
      return new Rotation(current, previous, clock.instant().plus(maxTokenLifetime));
    }
    Instant verifyUntil = clock.instant().plus(maxTokenLifetime).truncatedTo(ChronoUnit.MILLIS);
    for (SigningKey key : byKid.values()) {
      if (key.verifyUntil().isEmpty()) {
        store.retire(key.kid(), verifyUntil);
      }
    }
    reload();
    log.info("rotated signing key: kid={} alg={} now signs; kid={} verifies until {}",
        next.kid(), next.algorithm(), previous.kid(), verifyUntil);
    return new Rotation(current, previous, verifyUntil);
  }

  /** Rotates if the signing key is older than {@code interval}; returns whether it did. */
  public boolean rotateIfOlderThan(Duration interval) {
    reload();
    if (current.createdAt().plus(interval).isAfter(clock.instant())) {
      return false;
    }
    rotate();
    return true;
  }

  /** The result of a rotation: the new signing key and the one it replaced. */
  public record Rotation(SigningKey active, SigningKey retired, Instant retiredVerifiesUntil) {}

  public SigningKey current() {
    return current;
  }

  public SigningAlgorithm configuredAlgorithm() {
    return algorithm;
  }

  /**
   * The key with this id, if it is one of this server's and still verifies. An unknown id
   * triggers a reload, since another instance may have just rotated; each unknown id does so at
   * most once a second, and all of them together at most {@link #MAX_MISS_RELOADS_PER_SECOND}
   * times, so made-up ids cannot hammer the store.
   */
  public Optional<SigningKey> byKid(String kid) {
    SigningKey key = byKid.get(kid);
    if (key == null) {
      key = reloadForUnknown(kid);
    }
    Instant now = clock.instant();
    return key != null && key.verifies(now) ? Optional.of(key) : Optional.empty();
  }

  private synchronized SigningKey reloadForUnknown(String kid) {
    SigningKey key = byKid.get(kid);
    if (key != null) {
      return key;
    }
    Instant now = clock.instant();
    Instant missed = recentMisses.get(kid);
    if (missed != null && now.isBefore(missed.plus(Duration.ofSeconds(1)))) {
      return null;
    }
    if (now.isAfter(missWindowStart.plus(Duration.ofSeconds(1)))) {
      missWindowStart = now;
      missReloadsInWindow = 0;
    }
    if (missReloadsInWindow >= MAX_MISS_RELOADS_PER_SECOND) {
      return null;
    }
    missReloadsInWindow++;
    try {
      reload();
    } catch (RuntimeException e) {
      log.warn("could not reload signing keys: {}", e.toString());
    }
    key = byKid.get(kid);
    if (key == null) {
      recentMisses.put(kid, now);
    }
    return key;
  }

  /** Every key that verifies now, newest first: the content of the JWK Set. */
  public List<SigningKey> verificationKeys() {
    Instant now = clock.instant();
    return byKid.values().stream().filter(k -> k.verifies(now))
        .sorted(Comparator.comparingInt(SigningKey::generation).reversed()).toList();
  }

  private synchronized void install(List<SigningKey> keys) {
    if (keys.isEmpty()) {
      throw new IllegalStateException("no signing key in the store");
    }
    byKid = keys.stream().collect(Collectors.toUnmodifiableMap(SigningKey::kid, Function.identity()));
    current = keys.stream().max(Comparator.comparingInt(SigningKey::generation)).orElseThrow();
  }

  private SigningKey generate(int generation) {
    try {
      KeyPair pair = algorithm.generate(random);
      byte[] id = new byte[16];
      random.nextBytes(id);
      String kid = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
      return new SigningKey(kid, generation, algorithm, pair.getPrivate(), pair.getPublic(),
          clock.instant().truncatedTo(ChronoUnit.MILLIS), Optional.empty());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot generate " + algorithm + " keys", e);
    }
  }
}
