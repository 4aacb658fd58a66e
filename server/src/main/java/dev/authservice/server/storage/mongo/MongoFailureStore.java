package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.exists;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import com.mongodb.client.result.UpdateResult;
import dev.authservice.server.throttle.FailureRecord;
import dev.authservice.server.throttle.FailureStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Failed-login counts in {@code login_failures}, keyed by username. Each change is one update
 * conditional on the version the caller read ({@code v}), so concurrent attempts on any
 * instance are counted one by one.
 */
final class MongoFailureStore implements FailureStore {
  static final String COLLECTION = "login_failures";

  private final MongoCollection<Document> failures;
  private final WriteBarrier barrier;

  MongoFailureStore(MongoCollection<Document> failures, WriteBarrier barrier) {
    this.failures = failures;
    this.barrier = barrier;
  }

  @Override
  public Optional<FailureRecord> find(String username) {
    return Optional.ofNullable(failures.find(eq("_id", username)).first()).map(MongoFailureStore::toRecord);
  }

  @Override
  public Map<String, FailureRecord> findAll(Collection<String> usernames) {
    Map<String, FailureRecord> found = new HashMap<>();
    failures.find(in("_id", usernames)).forEach(doc -> {
      FailureRecord record = toRecord(doc);
      found.put(record.username(), record);
    });
    return found;
  }

  @Override
  public boolean replace(long expectedVersion, FailureRecord next, Instant forgetAt) {
    List<Bson> updates = new ArrayList<>(List.of(
        Updates.set("failures", next.failures()),
        Updates.set("last_failure", next.lastFailure().map(Date::from).orElse(null)),
        Updates.set("locked_until", next.lockedUntil().map(Date::from).orElse(null)),
        Updates.set("locked_permanently", next.lockedPermanently()),
        Updates.set("v", next.version())));
    // a permanent lock must outlive the TTL index that forgets idle failure counts
    updates.add(next.lockedPermanently() ? Updates.unset("forget_at") : Updates.set("forget_at", Date.from(forgetAt)));
    // version 0 is "no record", or one written before records had versions
    Bson current = expectedVersion == 0
        ? and(eq("_id", next.username()), exists("v", false))
        : and(eq("_id", next.username()), eq("v", expectedVersion));
    try {
      UpdateResult result = failures.updateOne(current, Updates.combine(updates),
          new UpdateOptions().upsert(expectedVersion == 0));
      boolean replaced = result.getMatchedCount() > 0 || result.getUpsertedId() != null;
      if (replaced && (next.lockedPermanently() || next.lockedUntil().isPresent())) {
        // a lock must survive a crash of the embedded store; a plain count may be lost with its last second
        barrier.afterWrite();
      }
      return replaced;
    } catch (MongoWriteException e) {
      if (Documents.isDuplicateKey(e)) {
        return false;  // another attempt created the record first
      }
      throw e;
    }
  }

  @Override
  public boolean clear(String username) {
    boolean deleted = failures.deleteOne(eq("_id", username)).getDeletedCount() > 0;
    if (deleted) {
      barrier.afterWrite();
    }
    return deleted;
  }

  @Override
  public boolean clear(String username, long version) {
    boolean deleted = failures.deleteOne(and(eq("_id", username), eq("v", version))).getDeletedCount() > 0;
    if (deleted) {
      barrier.afterWrite();
    }
    return deleted;
  }

  @Override
  public void forgetAt(String username, long version, Instant forgetAt) {
    failures.updateOne(and(eq("_id", username), eq("v", version)), Updates.set("forget_at", Date.from(forgetAt)));
  }

  @Override
  public long deleteForgotten(Instant now) {
    // a permanent lock of a real account has no forget_at at all
    long deleted = failures.deleteMany(lt("forget_at", Date.from(now))).getDeletedCount();
    if (deleted > 0) {
      barrier.afterWrite();
    }
    return deleted;
  }

  /**
   * The record a document holds. One edited by hand (mongosh writes {@code failures: 0} as a double,
   * a lock's time may be typed as text) is read, never a failed read (which would answer every login
   * of that username INTERNAL), and closed rather than open: a count that is not a number counts
   * nothing, but a lock that is not a date, or a permanent flag that is not a boolean, locks until
   * an admin's UnlockUser removes the record. A version that is not a whole number matches no
   * conditional write: the username's logins are then refused as busy until an unlock or the
   * sweep removes the record.
   */
  private static FailureRecord toRecord(Document doc) {
    Object until = doc.get("locked_until");
    Object permanently = doc.get("locked_permanently");
    boolean unreadableLock = until != null && !(until instanceof Date);
    return new FailureRecord(Documents.text(doc.get("_id")),
        // one below the largest int, so that counting one more attempt cannot wrap around to unlocked
        doc.get("failures") instanceof Number n ? (int) Math.max(0, Math.min(Integer.MAX_VALUE - 1, n.longValue())) : 0,
        until instanceof Date date ? Optional.of(date.toInstant()) : Optional.empty(),
        unreadableLock || (permanently != null && !Boolean.FALSE.equals(permanently)),
        doc.get("last_failure") instanceof Date last ? Optional.of(last.toInstant()) : Optional.empty(),
        doc.get("v") instanceof Number v ? v.longValue() : 0L);
  }
}
