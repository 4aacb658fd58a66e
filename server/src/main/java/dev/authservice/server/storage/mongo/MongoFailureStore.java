package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.ne;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import dev.authservice.server.storage.WriteBarrier;
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

/** Failed-login counts in {@code login_failures}, keyed by username. */
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
    failures.find(in("_id", usernames)).forEach(doc -> found.put(doc.getString("_id"), toRecord(doc)));
    return found;
  }

  @Override
  public int increment(String username, Instant now, Instant forgetAfter) {
    Document after = failures.findOneAndUpdate(eq("_id", username),
        Updates.combine(Updates.inc("failures", 1), Updates.set("last_failure", Date.from(now)),
            Updates.set("forget_at", Date.from(forgetAfter))),
        new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER));
    barrier.afterWrite();
    return after.getInteger("failures", 1);
  }

  @Override
  public void lock(String username, Optional<Instant> until, boolean permanently) {
    List<Bson> updates = new ArrayList<>(List.of(
        Updates.set("locked_until", until.map(Date::from).orElse(null)),
        Updates.set("locked_permanently", permanently)));
    if (permanently) {
      // a permanent lock must outlive the TTL index that forgets idle failure counts
      updates.add(Updates.unset("forget_at"));
    }
    failures.updateOne(eq("_id", username), Updates.combine(updates));
    barrier.afterWrite();
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
  public long deleteForgotten(Instant now) {
    long deleted = failures.deleteMany(and(lt("forget_at", Date.from(now)), ne("locked_permanently", true)))
        .getDeletedCount();
    if (deleted > 0) {
      barrier.afterWrite();
    }
    return deleted;
  }

  private static FailureRecord toRecord(Document doc) {
    return new FailureRecord(doc.getString("_id"), doc.getInteger("failures", 0),
        Optional.ofNullable(doc.getDate("locked_until")).map(Date::toInstant),
        doc.getBoolean("locked_permanently", false));
  }
}
