package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gt;
import static com.mongodb.client.model.Filters.lt;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import dev.authservice.server.throttle.AddressAttemptStore;
import java.time.Instant;
import java.util.Date;
import java.util.OptionalInt;
import org.bson.Document;

/**
 * Login attempts per address and minute in {@code login_address_attempts}, one document per
 * address and window. A place is taken by one upsert conditional on the count being below the
 * budget: when the window is full the condition fails, the upsert tries to insert the same
 * {@code _id}, and the store refuses it as a duplicate, so the count never passes the budget.
 * Counts are not synced one by one: a crash of the embedded store may forget the last second's.
 */
final class MongoAddressAttemptStore implements AddressAttemptStore {
  static final String COLLECTION = "login_address_attempts";

  private final MongoCollection<Document> attempts;

  MongoAddressAttemptStore(MongoCollection<Document> attempts) {
    this.attempts = attempts;
  }

  private static String id(String address, long windowStart) {
    return address + "|" + windowStart;
  }

  @Override
  public boolean tryAdd(String address, long windowStart, int below, Instant expiresAt) {
    // two first attempts in a window may both try to insert: the loser's duplicate key means the
    // document exists now, not that it is full, so it tries once more against the stored count
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        attempts.updateOne(and(eq("_id", id(address, windowStart)), lt("n", below)),
            Updates.combine(Updates.inc("n", 1), Updates.setOnInsert("expires_at", Date.from(expiresAt))),
            new UpdateOptions().upsert(true));
        return true;
      } catch (MongoWriteException e) {
        if (!Documents.isDuplicateKey(e)) {
          throw e;
        }
      }
    }
    return false;
  }

  @Override
  public void release(String address, long windowStart) {
    attempts.updateOne(and(eq("_id", id(address, windowStart)), gt("n", 0)), Updates.inc("n", -1));
  }

  @Override
  public OptionalInt count(String address, long windowStart) {
    Document doc = attempts.find(eq("_id", id(address, windowStart))).first();
    return doc != null && doc.get("n") instanceof Number n ? OptionalInt.of(n.intValue()) : OptionalInt.empty();
  }

  @Override
  public long deleteExpired(Instant now) {
    return attempts.deleteMany(lt("expires_at", Date.from(now))).getDeletedCount();
  }
}
