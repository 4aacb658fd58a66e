package dev.authservice.server.revocation;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Durable, shared list of revocations. Each revocation gets the next number of a sequence the
 * store keeps ({@code seq}), so pollers find what is new by number, whatever the clocks of the
 * machines that wrote it or of the store's current primary.
 */
public interface RevocationStore {
  /**
   * Records a revocation. Idempotent: revoking again keeps the number (and extends the expiry if
   * the new one is later); a revocation from before numbers (seq 0), or a document under its id
   * that does not read as it, is written anew under a new number.
   */
  Added add(Revocation revocation);

  /** A revocation's seq, and whether this call wrote anything (false: it was stored as it is already). */
  record Added(long seq, boolean written) {}

  /**
   * A revocation, its seq (0 for one written before revocations were numbered) and when the
   * store recorded it.
   */
  record Recorded(java.util.Optional<Revocation> revocation, long seq, Instant recordedAt, String storedId) {
    public Recorded(Revocation revocation, long seq, Instant recordedAt) {
      this(java.util.Optional.of(revocation), seq, recordedAt, revocation.id());
    }

    /**
     * A stored document this version cannot read as a revocation: a kind it does not know (one a
     * newer version wrote during a rolling upgrade) or an edited one. It revokes nothing here, but
     * its number counts as read, so it neither stops the polls nor leaves a gap.
     * {@code storedId}: how it may be named in a log line (not its id, which holds the revoked value).
     */
    public static Recorded unreadable(String storedId, long seq, Instant recordedAt) {
      return new Recorded(java.util.Optional.empty(), seq, recordedAt, storedId);
    }
  }

  /** Every revocation that has not expired. */
  List<Recorded> unexpired(Instant now);

  /**
   * Revocations numbered above {@code afterSeq}, expired or not, and unnumbered ones recorded at
   * or after {@code unnumberedSince} (written by an earlier version during a rolling upgrade).
   */
  List<Recorded> after(long afterSeq, Instant unnumberedSince);

  /** The highest seq handed out so far (0 before the first). */
  long latestSeq();

  boolean isRevoked(Revocation.Kind kind, String value);

  /** Removes revocations that expired before {@code now}; returns how many. */
  long deleteExpired(Instant now);
}
