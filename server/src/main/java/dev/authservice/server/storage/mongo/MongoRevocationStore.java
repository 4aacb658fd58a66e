package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.exists;
import static com.mongodb.client.model.Filters.gt;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.or;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import dev.authservice.integrity.Hashes;
import dev.authservice.server.revocation.Revocation;
import dev.authservice.server.revocation.RevocationStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Revocations in the {@code revocations} collection, one document per revoked thing, each with
 * the next number of the {@code revocations} counter in {@code sequences} ({@code seq}: one
 * atomic increment, majority-acknowledged like every write, so numbers only grow, also across
 * a failover). {@code recorded_at} is kept for people and for earlier versions.
 */
final class MongoRevocationStore implements RevocationStore {
  static final String COLLECTION = "revocations";
  static final String SEQUENCES = "sequences";
  private static final String COUNTER = "revocations";

  private final MongoCollection<Document> revocations;
  private final MongoCollection<Document> sequences;
  private final WriteBarrier barrier;

  MongoRevocationStore(MongoCollection<Document> revocations, MongoCollection<Document> sequences,
      WriteBarrier barrier) {
    this.revocations = revocations;
    this.sequences = sequences;
    this.barrier = barrier;
  }

  @Override
  public Added add(Revocation revocation) {
    Document existing = revocations.find(eq("_id", revocation.id())).first();
    // a document under this id that does not read as this revocation (planted, or edited) is
    // replaced whole, under a new number, so that every instance reads it again at once
    if (existing != null && existing.get("seq") instanceof Number seq && seq.longValue() > 0
        && recorded(existing).revocation().filter(r -> r.kind() == revocation.kind()
            && r.value().equals(revocation.value())).isPresent()) {
      // revoked already (a second logout, a retried call): keep its number, for a new one would
      // overwrite it and every instance would wait for the old one as a gap; only a later expiry
      // is written (the instances' full reads pick it up)
      Bson later = revocation.expiresAt()
          .map(at -> and(eq("_id", revocation.id()), lt("expires_at", Date.from(at))))
          .orElse(and(eq("_id", revocation.id()), Filters.ne("expires_at", null)));
      boolean extended = revocations.updateOne(later,
          Updates.set("expires_at", revocation.expiresAt().map(Date::from).orElse(null))).getModifiedCount() > 0;
      if (extended) {
        barrier.afterWrite();
      }
      return new Added(seq.longValue(), extended);
    }
    Document counter = sequences.findOneAndUpdate(eq("_id", COUNTER), Updates.inc("seq", 1L),
        new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
    long seq = ((Number) counter.get("seq")).longValue();
    Bson update = Updates.combine(
        Updates.set("kind", revocation.kind().name().toLowerCase(Locale.ROOT)),
        Updates.set("value", revocation.value()),
        Updates.set("expires_at", revocation.expiresAt().map(Date::from).orElse(null)),
        Updates.set("seq", seq),
        Updates.currentDate("recorded_at"));
    revocations.updateOne(eq("_id", revocation.id()), update, new UpdateOptions().upsert(true));
    barrier.afterWrite();
    return new Added(seq, true);
  }

  @Override
  public List<Recorded> unexpired(Instant now) {
    // an expiry that is not a date (an edit) reads as none: such a revocation never lapses, so it
    // must be in every full read, not only the numbered one
    return read(or(eq("expires_at", null), gte("expires_at", Date.from(now)),
        Filters.not(Filters.type("expires_at", org.bson.BsonType.DATE_TIME))));
  }

  @Override
  public List<Recorded> after(long afterSeq, Instant unnumberedSince) {
    return read(or(gt("seq", afterSeq),
        and(exists("seq", false), gte("recorded_at", Date.from(unnumberedSince)))));
  }

  private List<Recorded> read(Bson query) {
    List<Recorded> found = new ArrayList<>();
    revocations.find(query).forEach(doc -> found.add(recorded(doc)));
    return found;
  }

  /**
   * One document as a revocation; one whose kind this version does not know, or whose value is
   * not text, as unreadable (it must neither stop every read nor revoke something it did not
   * name). An expiry that is not a date is read as none: the revocation then stays, never lapses.
   */
  private static Recorded recorded(Document doc) {
    long seq = doc.get("seq") instanceof Number n ? n.longValue() : 0L;
    Instant recordedAt = doc.get("recorded_at") instanceof Date d ? d.toInstant() : Instant.EPOCH;
    Optional<Revocation.Kind> kind = doc.get("kind") instanceof String k ? kind(k) : Optional.empty();
    if (kind.isEmpty() || !(doc.get("value") instanceof String value)) {
      return Recorded.unreadable(logName(doc), seq, recordedAt);
    }
    Optional<Instant> expiresAt = doc.get("expires_at") instanceof Date d ? Optional.of(d.toInstant()) : Optional.empty();
    return new Recorded(new Revocation(kind.get(), value, expiresAt), seq, recordedAt);
  }

  private static Optional<Revocation.Kind> kind(String stored) {
    for (Revocation.Kind kind : Revocation.Kind.values()) {
      if (kind.name().equalsIgnoreCase(stored)) {
        return Optional.of(kind);
      }
    }
    return Optional.empty();
  }

  /**
   * How an unreadable document is named in the log: its kind as stored (printable, cut short) and a
   * digest of its id, not the id itself, whose value part (a token id, a session, a subject, or what
   * a newer version revokes) need not be in a log; an operator finds it by its seq or that digest.
   */
  private static String logName(Document doc) {
    String id = String.valueOf(doc.get("_id"));
    return "of kind " + printable(String.valueOf(doc.get("kind"))) + ", id sha256 "
        + Hashes.sha256(id.getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 16);
  }

  /** Stored text as it may go into a log line: printable ASCII, at most 80 characters. */
  private static String printable(String id) {
    String cut = id.length() > 80 ? id.substring(0, 80) + "..." : id;
    return '"' + cut.replaceAll("[^\\x20-\\x7e]|[\"\\\\]", "?") + '"';
  }

  @Override
  public long latestSeq() {
    Document counter = sequences.find(eq("_id", COUNTER)).first();
    return counter != null && counter.get("seq") instanceof Number n ? n.longValue() : 0L;
  }

  @Override
  public boolean isRevoked(Revocation.Kind kind, String value) {
    return revocations.find(eq("_id", new Revocation(kind, value, Optional.empty()).id())).first() != null;
  }

  @Override
  public long deleteExpired(Instant now) {
    long deleted = revocations.deleteMany(lt("expires_at", Date.from(now))).getDeletedCount();
    if (deleted > 0) {
      barrier.afterWrite();
    }
    return deleted;
  }
}
