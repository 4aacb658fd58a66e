package dev.authservice.server.session;

import dev.authservice.server.revocation.Revocation;
import dev.authservice.server.revocation.RevocationList;
import dev.authservice.server.revocation.RevocationStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Refresh tokens: 256 random bits, handed out once and stored only as a SHA-256 hash. Every use
 * rotates the token; presenting one that was already used means it was copied, so the whole
 * session (refresh family) is revoked, including the access tokens issued in it (their
 * {@code sid} claim).
 */
public final class Sessions {
  private static final Pattern TOKEN_SHAPE = Pattern.compile("[A-Za-z0-9_-]{43}");
  private static final int TOKEN_BYTES = 32;
  /** A refresh that read the session as live before its revocation was written, and issues later. */
  private static final Duration RACE_MARGIN = Duration.ofMinutes(1);

  private final RefreshTokenStore store;
  private final RevocationList revocations;
  private final RevocationStore revocationStore;
  private final Clock clock;
  private final Duration refreshTtl;
  private final Duration sessionMaxLifetime;
  private final Duration accessTokenLifetime;
  private final SecureRandom random = new SecureRandom();

  public Sessions(RefreshTokenStore store, RevocationList revocations, RevocationStore revocationStore,
      Clock clock, Duration refreshTtl, Duration sessionMaxLifetime, Duration accessTokenLifetime) {
    this.store = store;
    this.revocations = revocations;
    this.revocationStore = revocationStore;
    this.clock = clock;
    this.refreshTtl = refreshTtl;
    this.sessionMaxLifetime = sessionMaxLifetime;
    this.accessTokenLifetime = accessTokenLifetime;
  }

  /** A refresh token as handed to the client, with its record. */
  public record Issued(String refreshToken, RefreshRecord record) {
    @Override
    public String toString() {
      return "Issued[session=" + record.sessionId() + ", expiresAt=" + record.expiresAt() + "]";
    }
  }

  /** Starts a session at login. */
  public Issued start(String subject, String audience) {
    Instant now = now();
    return issue(UUID.randomUUID().toString(), subject, audience, now.plus(sessionMaxLifetime), now);
  }

  /** What presenting a refresh token led to. */
  public sealed interface Outcome {
    /** The token was good and is now used; here is its successor. */
    record Rotated(RefreshRecord used, Issued next) implements Outcome {}

    /** Refused; {@code reason} is for the audit trail. */
    record Refused(String reason, Optional<RefreshRecord> record) implements Outcome {}

    /** The token had been used before: the session is now revoked. */
    record ReuseDetected(RefreshRecord record) implements Outcome {}
  }

  public Outcome refresh(String refreshToken) {
    if (!TOKEN_SHAPE.matcher(refreshToken).matches()) {
      return new Outcome.Refused("malformed_refresh_token", Optional.empty());
    }
    Optional<RefreshRecord> found = store.findByHash(hash(refreshToken));
    if (found.isEmpty()) {
      return new Outcome.Refused("unknown_refresh_token", Optional.empty());
    }
    RefreshRecord record = found.get();
    Instant now = now();
    if (revocationStore.isRevoked(Revocation.Kind.SESSION, record.sessionId())) {
      return new Outcome.Refused("session_revoked", found);
    }
    if (!record.expiresAt().isAfter(now)) {
      return new Outcome.Refused("refresh_token_expired", found);
    }
    if (record.usedAt().isPresent() || !store.claim(record.tokenHash(), now)) {
      endSession(record.subject(), record.sessionId());
      return new Outcome.ReuseDetected(record);
    }
    Issued next = issue(record.sessionId(), record.subject(), record.audience(), record.sessionExpiresAt(), now);
    if (revocationStore.isRevoked(Revocation.Kind.SESSION, record.sessionId())) {
      // revoked while this refresh ran (a logout, the other use of a copied token): the revocation
      // may have been sized before the new token was stored, on an instance whose lifetimes are
      // shorter; sized again now that it is, and no access token is issued
      endSession(record.subject(), record.sessionId());
      return new Outcome.Refused("session_revoked", found);
    }
    return new Outcome.Rotated(record, next);
  }

  /** The record of a refresh token, if it is one of ours. */
  public Optional<RefreshRecord> lookup(String refreshToken) {
    if (!TOKEN_SHAPE.matcher(refreshToken).matches()) {
      return Optional.empty();
    }
    return store.findByHash(hash(refreshToken));
  }

  /**
   * Revokes a session of {@code subject}: no more refreshes, and its access tokens stop
   * validating. The revocation is kept (in the store and in every instance's memory) only while
   * a token of the session can still be live: until the latest expiry of its refresh tokens as
   * stored (each keeps the lifetime it was issued with, whatever the settings are now), or of one
   * that a refresh racing this revocation issues now, and then an access token's lifetime. Every
   * logout adds one, so keeping each for the session's whole lifetime (30 days by default) would
   * hold about 30 times as many.
   */
  public void endSession(String subject, String sessionId) {
    Duration refreshable = refreshTtl.compareTo(sessionMaxLifetime) < 0 ? refreshTtl : sessionMaxLifetime;
    Instant racing = now().plus(refreshable);
    Instant lastRefresh;
    try {
      lastRefresh = store.latestExpiryOf(subject, sessionId).filter(racing::isBefore).orElse(racing);
    } catch (RuntimeException e) {
      // the revocation must still be written: as long as any session can last
      lastRefresh = now().plus(sessionMaxLifetime);
    }
    revocations.revoke(new Revocation(Revocation.Kind.SESSION, sessionId,
        Optional.of(lastRefresh.plus(accessTokenLifetime).plus(RACE_MARGIN))));
  }

  /** Ends every live session of a subject (a disabled user). */
  public void endSessionsOf(String subject) {
    store.liveSessionsOf(subject, now()).forEach(session -> endSession(subject, session));
  }

  private Issued issue(String sessionId, String subject, String audience, Instant sessionExpiresAt, Instant now) {
    byte[] raw = new byte[TOKEN_BYTES];
    random.nextBytes(raw);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    Instant expires = now.plus(refreshTtl);
    if (expires.isAfter(sessionExpiresAt)) {
      expires = sessionExpiresAt;
    }
    RefreshRecord record = new RefreshRecord(hash(token), sessionId, subject, audience, now, expires,
        sessionExpiresAt, Optional.empty());
    store.insert(record);
    return new Issued(token, record);
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  static String hash(String token) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
