package dev.authservice.server.keys;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key set: the token signing keys, or the audit checkpoint keys. The newest trusted generation
 * whose {@code createdAt} has come signs; a token key verifies until the last token it signed has
 * expired, an audit key forever. A scheduled rotation pre-publishes: the new key is stored (and so
 * in the JWK Set) with a {@code createdAt} a lead time ahead, and signs only from then, so that
 * verifiers that cache the JWK Set hold it before the first token it signs arrives.
 * Generations are unique in the store, so when several instances start on an empty store, or
 * rotate at once, exactly one key wins each generation and all instances agree on it after their
 * next reload. A stored key this server cannot trust (see {@link SigningKeyStore#load}) is never
 * part of the set: it does not sign, verify or appear in a JWK Set, and it is logged once.
 */
public final class SigningKeys {
  private static final Logger log = LoggerFactory.getLogger(SigningKeys.class);
  /** Reloads for unknown ids start at most this often: 20 a second, whatever the ids. */
  static final Duration MISS_RELOAD_SPACING = Duration.ofMillis(50);
  /** The longest a lookup of an unknown id waits for its reload; past it, the answer is undecided. */
  static final Duration MISS_RELOAD_MAX_WAIT = Duration.ofSeconds(2);
  private static final int MAX_ROTATION_ATTEMPTS = 5;
  private static final int MAX_REPORTED_UNTRUSTED = 1000;

  private final SigningKeyStore store;
  private final Clock clock;
  private final SigningAlgorithm algorithm;
  /** How long a superseded key still verifies; empty: forever (audit keys). */
  private final Optional<Duration> retiredKeyLifetime;
  private final SecureRandom random = new SecureRandom();
  private volatile Map<String, SigningKey> byKid = Map.of();
  /** The newest trusted generation, which signs once its {@code createdAt} has come. */
  private volatile SigningKey newest;
  private volatile int highestStoredGeneration;
  /** Reads of the store begun, numbered: a read that began before the one installed is not installed. */
  private final java.util.concurrent.atomic.AtomicLong readsBegun = new java.util.concurrent.atomic.AtomicLong();
  private long installedRead;
  /** Untrusted documents already logged, so a reload every few seconds does not repeat them. */
  private final Set<UntrustedKey> reported = new LinkedHashSet<>();
  /** Ids a reload did not find, each not reloaded for again within a second (at most 1,000 kept). */
  private final Map<String, Instant> recentMisses = new java.util.LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
      return size() > 1000;
    }
  };
  private final MissReloads missReloads;
  /** When a reload for an unknown id last failed; null once one succeeded. */
  private volatile Instant lastFailedReload;

  /**
   * Token signing keys.
   *
   * @param maxTokenLifetime how long a token signed now may stay valid: its TTL plus the clock
   *     skew allowed; a retired key verifies for this long after it stops signing
   */
  public SigningKeys(SigningKeyStore store, Clock clock, SigningAlgorithm algorithm, Duration maxTokenLifetime) {
    this(store, clock, algorithm, Optional.of(maxTokenLifetime));
  }

  private SigningKeys(SigningKeyStore store, Clock clock, SigningAlgorithm algorithm,
      Optional<Duration> retiredKeyLifetime) {
    this.store = store;
    this.clock = clock;
    this.algorithm = algorithm;
    this.retiredKeyLifetime = retiredKeyLifetime;
    this.missReloads = new MissReloads(clock, MISS_RELOAD_SPACING, MISS_RELOAD_MAX_WAIT,
        this::reloadReportingFailure);
  }

  /**
   * Keys that never retire: what they signed (audit checkpoints) must verify for as long as it
   * is kept, so a rotation only changes which key signs.
   */
  public static SigningKeys neverRetiring(SigningKeyStore store, Clock clock, SigningAlgorithm algorithm) {
    return new SigningKeys(store, clock, algorithm, Optional.empty());
  }

  /** Where these keys live, for messages to the operator. */
  String storeName() {
    return store.name();
  }

  /** The stored keys this server will not use, and why: read now from the store. */
  List<UntrustedKey> untrustedKeys() {
    return store.load().untrusted();
  }

  /**
   * Encrypts under the key-encryption key every stored private key kept in the clear whose
   * public key it belongs to, logging each kid: the explicit, one-off migration of keys left by
   * a development run. Returns the kids encrypted.
   */
  List<String> encryptPlaintextKeys() {
    List<String> encrypted = new ArrayList<>();
    for (UntrustedKey key : store.load().untrusted()) {
      if (key.reason() == UntrustedKey.Reason.PLAINTEXT && store.encryptStoredPlaintext(key.kid())) {
        log.warn("encrypted the unencrypted private key of {} kid={} generation={} under the key-encryption key"
            + " (AUTH_ENCRYPT_PLAINTEXT_KEYS); it is trusted from now on: check that it is one of yours",
            store.name(), key.kid(), key.generation());
        encrypted.add(key.kid());
      }
    }
    return encrypted;
  }

  /** Loads the stored keys, generating the first one if the store has none. */
  public void loadOrCreate() {
    long read = readsBegun.incrementAndGet();
    StoredKeys stored = store.load();
    if (stored.trusted().isEmpty()) {
      SigningKey first = generate(stored.highestGeneration() + 1, clock.instant().truncatedTo(ChronoUnit.MILLIS));
      if (store.insertIfGenerationFree(first)) {
        log.info("generated key kid={} alg={} in {}", first.kid(), first.algorithm(), store.name());
      }
      read = readsBegun.incrementAndGet();
      stored = store.load();
    }
    install(stored, read);
  }

  /** Re-reads the key set from the store, so rotations by other instances take effect. */
  public void reload() {
    long read = readsBegun.incrementAndGet();
    install(store.load(), read);
  }

  /**
   * Makes a new key of the configured algorithm the signing key; token keys before it retire.
   * The new generation comes after every stored one, trusted or not, so a planted document
   * cannot hold the generation a rotation needs.
   */
  public Rotation rotate() {
    return rotate(Duration.ZERO);
  }

  /**
   * As {@link #rotate()}, but the new key, published at once, signs only after {@code lead}: until
   * then the current key goes on signing, and it verifies for a token's lifetime after that.
   */
  Rotation rotate(Duration lead) {
    reload();
    SigningKey previous = newest;
    Instant signsFrom = clock.instant().plus(lead).truncatedTo(ChronoUnit.MILLIS);
    for (int attempt = 0; attempt < MAX_ROTATION_ATTEMPTS; attempt++) {
      SigningKey next = generate(nextGeneration(previous), signsFrom);
      if (store.insertIfGenerationFree(next)) {
        Optional<Instant> verifyUntil = retirePrevious(signsFrom);
        reload();
        log.info("rotated key in {}: kid={} alg={} {}; kid={} {}", store.name(),
            next.kid(), next.algorithm(), lead.isZero() ? "now signs" : "published, signs from " + signsFrom,
            previous.kid(), verifyUntil.map(t -> "verifies until " + t).orElse("keeps verifying"));
        return new Rotation(newest, previous, verifyUntil);
      }
      reload();
      if (newest.generation() > previous.generation()) {
        // another instance rotated at the same moment: adopt its key instead of stacking two
        return new Rotation(newest, previous, retiredKeyLifetime.map(newest.createdAt()::plus));
      }
      // the generation was taken by a document this server does not trust: try the next one
    }
    throw new IllegalStateException("could not rotate the key in " + store.name() + ": the next generation"
        + " was taken " + MAX_ROTATION_ATTEMPTS + " times by documents this server does not trust");
  }

  private int nextGeneration(SigningKey previous) {
    int highest = Math.max(highestStoredGeneration, previous.generation());
    if (highest == Integer.MAX_VALUE) {
      throw new IllegalStateException(store.name() + " holds a document claiming the last possible generation:"
          + " delete the documents this server does not trust (each is logged at ERROR)");
    }
    return highest + 1;
  }

  private Optional<Instant> retirePrevious(Instant lastSigns) {
    if (retiredKeyLifetime.isEmpty()) {
      return Optional.empty();
    }
    Instant verifyUntil = lastSigns.plus(retiredKeyLifetime.get()).truncatedTo(ChronoUnit.MILLIS);
    for (SigningKey key : byKid.values()) {
      if (key.verifyUntil().isEmpty()) {
        store.retire(key.kid(), verifyUntil);
      }
    }
    return Optional.of(verifyUntil);
  }

  /** Rotates if the signing key is older than {@code interval}; returns whether it did. */
  public boolean rotateIfOlderThan(Duration interval) {
    return rotateIfOlderThan(interval, Duration.ZERO);
  }

  /**
   * The scheduled rotation with pre-publication: once the signing key is {@code interval} minus
   * {@code lead} old, publishes the next key, which signs {@code lead} later, so the signing key
   * is replaced at {@code interval} as before. Nothing happens while a published key waits for its
   * turn. Returns whether it rotated.
   */
  public boolean rotateIfOlderThan(Duration interval, Duration lead) {
    reload();
    Instant now = clock.instant();
    if (newest.createdAt().isAfter(now) || newest.createdAt().plus(interval).minus(lead).isAfter(now)) {
      return false;
    }
    rotate(lead);
    return true;
  }

  /**
   * The result of a rotation: the new signing key, the one it replaced, and until when that one
   * verifies (empty: forever).
   */
  public record Rotation(SigningKey active, SigningKey retired, Optional<Instant> retiredVerifiesUntil) {}

  /**
   * The key that signs now: the newest whose {@code createdAt} has come (a pre-published key waits
   * for its time); if none has (another instance's clock ahead of ours), the newest.
   */
  public SigningKey current() {
    SigningKey candidate = newest;
    Instant now = clock.instant();
    if (!candidate.createdAt().isAfter(now)) {
      return candidate;
    }
    return byKid.values().stream().filter(k -> !k.createdAt().isAfter(now))
        .max(Comparator.comparingInt(SigningKey::generation)).orElse(candidate);
  }

  public SigningAlgorithm configuredAlgorithm() {
    return algorithm;
  }

  /**
   * The key with this id, if it is one of this server's and still verifies. An unknown id
   * waits for a reload that starts after it arrived, since another instance may have just rotated.
   * Lookups of unknown ids share their reloads, which start at most once per
   * {@link #MISS_RELOAD_SPACING} (see {@link MissReloads}), and an id a reload did not find is not
   * reloaded for again within a second: made-up ids cannot hammer the store, and cannot use up
   * anything a real id needs.
   */
  public Optional<SigningKey> byKid(String kid) {
    return lookup(kid).key();
  }

  /**
   * As {@link #byKid}, saying besides whether the answer is certain: an id this server does not
   * hold, when the reload that would have found a key rotated elsewhere failed (or failed less than
   * a second ago), is undecided rather than unknown.
   */
  public Lookup lookup(String kid) {
    SigningKey key = byKid.get(kid);
    boolean undecided = false;
    if (key == null) {
      Miss miss = reloadForUnknown(kid);
      key = miss.key();
      undecided = miss.storeUnreachable();
    }
    Instant now = clock.instant();
    return key != null && key.verifies(now) ? new Lookup(Optional.of(key), false)
        : new Lookup(Optional.empty(), key == null && undecided);
  }

  /** A key looked up by id; {@code undecided}: not held here and the store could not be asked. */
  public record Lookup(Optional<SigningKey> key, boolean undecided) {}

  private record Miss(SigningKey key, boolean storeUnreachable) {}

  /**
   * Whether a key that verified something earlier is still in the set, the same key, and still
   * verifies: a verification must not outlive its key's retirement or removal.
   */
  public boolean stillVerifies(SigningKey key) {
    SigningKey now = byKid.get(key.kid());
    return now != null && now.publicKey().equals(key.publicKey()) && now.verifies(clock.instant());
  }

  private Miss reloadForUnknown(String kid) {
    Instant now = clock.instant();
    synchronized (recentMisses) {
      Instant missed = recentMisses.get(kid);
      if (missed != null && now.isBefore(missed.plus(Duration.ofSeconds(1)))) {
        return new Miss(null, false);
      }
    }
    // a store that just failed is not asked again within a second, by any id
    Instant failed = lastFailedReload;
    if (failed != null && now.isBefore(failed.plus(Duration.ofSeconds(1)))) {
      return new Miss(null, true);
    }
    if (!missReloads.awaitFreshReload()) {
      return new Miss(null, true);
    }
    SigningKey key = byKid.get(kid);
    if (key == null) {
      synchronized (recentMisses) {
        recentMisses.put(kid, now);
      }
    }
    return new Miss(key, false);
  }

  private void reloadReportingFailure() {
    try {
      reload();
      lastFailedReload = null;
    } catch (RuntimeException e) {
      log.warn("could not reload keys from {}: {}", store.name(), e.toString());
      lastFailedReload = clock.instant();
      throw e;
    }
  }

  /** Every key that verifies now, newest first: the content of the JWK Set. */
  public List<SigningKey> verificationKeys() {
    Instant now = clock.instant();
    return byKid.values().stream().filter(k -> k.verifies(now))
        .sorted(Comparator.comparingInt(SigningKey::generation).reversed()).toList();
  }

  /**
   * Installs what read number {@code read} found, unless a read begun later was installed already:
   * reloads run on several threads (the periodic one, rotations, lookups of unknown ids), and one
   * that began earlier but ended later must not bring back a key set older than the one in use.
   */
  private synchronized void install(StoredKeys stored, long read) {
    if (read < installedRead) {
      return;
    }
    reportUntrusted(stored.untrusted());
    List<SigningKey> keys = stored.trusted();
    if (keys.isEmpty()) {
      throw new IllegalStateException("no trusted key in " + store.name());
    }
    installedRead = read;
    byKid = keys.stream().collect(Collectors.toUnmodifiableMap(SigningKey::kid, Function.identity()));
    newest = keys.stream().max(Comparator.comparingInt(SigningKey::generation)).orElseThrow();
    highestStoredGeneration = stored.highestGeneration();
  }

  private void reportUntrusted(List<UntrustedKey> untrusted) {
    for (UntrustedKey key : untrusted) {
      if (reported.size() >= MAX_REPORTED_UNTRUSTED) {
        reported.clear();
      }
      if (reported.add(key)) {
        log.error("ignoring {} kid={} generation={}: {}; it is not used to sign, to verify or in the published"
            + " keys. To fix: {}", store.name(), key.kid(), key.generation(), key.reason().description(),
            key.reason().remedy());
      }
    }
  }

  /** A new key pair that signs from {@code signsFrom} (its {@code createdAt}). */
  private SigningKey generate(int generation, Instant signsFrom) {
    try {
      KeyPair pair = algorithm.generate(random);
      byte[] id = new byte[16];
      random.nextBytes(id);
      String kid = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
      return new SigningKey(kid, generation, algorithm, pair.getPrivate(), pair.getPublic(),
          signsFrom, Optional.empty());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot generate " + algorithm + " keys", e);
    }
  }
}
