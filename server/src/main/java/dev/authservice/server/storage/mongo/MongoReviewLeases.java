package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.lt;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Updates;
import dev.authservice.server.review.ReviewLeases;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bson.Document;

/** Review leases in {@code review_leases}: {@code _id} the window, {@code owner}, {@code expires_at}. */
final class MongoReviewLeases implements ReviewLeases {
  static final String COLLECTION = "review_leases";

  private final MongoCollection<Document> leases;
  private final WriteBarrier barrier;

  MongoReviewLeases(MongoCollection<Document> leases, WriteBarrier barrier) {
    this.leases = leases;
    this.barrier = barrier;
  }

  @Override
  public boolean acquire(String window, String owner, Instant now, Duration ttl) {
    Date expires = Date.from(now.plus(ttl));
    try {
      leases.insertOne(new Document("_id", window).append("owner", owner).append("expires_at", expires));
      barrier.afterWrite();
      return true;
    } catch (MongoWriteException e) {
      if (!Documents.isDuplicateKey(e)) {
        throw e;
      }
    }
    // held: take it over only if it ran out (its owner died mid-review)
    boolean taken = leases.updateOne(and(eq("_id", window), lt("expires_at", Date.from(now))),
        Updates.combine(Updates.set("owner", owner), Updates.set("expires_at", expires))).getModifiedCount() == 1;
    barrier.afterWrite();
    return taken;
  }

  @Override
  public boolean hold(String window, String owner, Instant until) {
    boolean held = leases.updateOne(and(eq("_id", window), eq("owner", owner)),
        Updates.set("expires_at", Date.from(until))).getMatchedCount() == 1;
    barrier.afterWrite();
    return held;
  }

  @Override
  public void release(String window, String owner) {
    leases.deleteOne(and(eq("_id", window), eq("owner", owner)));
    barrier.afterWrite();
  }
}
