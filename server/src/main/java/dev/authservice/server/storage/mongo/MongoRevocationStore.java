package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.or;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;
import dev.authservice.server.revocation.Revocation;
import dev.authservice.server.revocation.RevocationStore;
import dev.authservice.server.storage.WriteBarrier;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Revocations in the {@code revocations} collection, one document per revoked thing.
 * {@code recorded_at} is set by the store itself ({@code $currentDate}), so pollers on machines
 * with different clocks agree on what is new.
 */
final class MongoRevocationStore implements RevocationStore {
  static final String COLLECTION = "revocations";

  private final MongoCollection<Document> revocations;
  private final WriteBarrier barrier;

  MongoRevocationStore(MongoCollection<Document> revocations, WriteBarrier barrier) {
    this.revocations = revocations;
    this.barrier = barrier;
  }

  @Override
  public void add(Revocation revocation) {
    Bson update = Updates.combine(
        Updates.set("kind", revocation.kind().name().toLowerCase(Locale.ROOT)),
        Updates.set("value", revocation.value()),
        Updates.set("expires_at", revocation.expiresAt().map(Date::from).orElse(null)),
        Updates.currentDate("recorded_at"));
    revocations.updateOne(eq("_id", revocation.id()), update, new UpdateOptions().upsert(true));
    barrier.afterWrite();
  }

  @Override
  public List<Recorded> recordedSince(Optional<Instant> since, Instant now) {
    Bson unexpired = or(eq("expires_at", null), gte("expires_at", Date.from(now)));
    Bson query = since.map(s -> and(gte("recorded_at", Date.from(s)), unexpired)).orElse(unexpired);
    List<Recorded> found = new ArrayList<>();
    revocations.find(query).forEach(doc -> found.add(new Recorded(
        new Revocation(Revocation.Kind.valueOf(doc.getString("kind").toUpperCase(Locale.ROOT)),
            doc.getString("value"), Optional.ofNullable(doc.getDate("expires_at")).map(Date::toInstant)),
        Documents.instant(doc, "recorded_at"))));
    return found;
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
