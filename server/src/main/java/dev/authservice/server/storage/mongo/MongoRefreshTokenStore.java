package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gt;
import static com.mongodb.client.model.Filters.lt;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.authservice.server.session.RefreshRecord;
import dev.authservice.server.session.RefreshTokenStore;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;

/** Refresh tokens in {@code refresh_tokens}, keyed by the SHA-256 of the token. */
final class MongoRefreshTokenStore implements RefreshTokenStore {
  static final String COLLECTION = "refresh_tokens";

  private final MongoCollection<Document> tokens;
  private final WriteBarrier barrier;

  MongoRefreshTokenStore(MongoCollection<Document> tokens, WriteBarrier barrier) {
    this.tokens = tokens;
    this.barrier = barrier;
  }

  @Override
  public void insert(RefreshRecord r) {
    tokens.insertOne(new Document("_id", r.tokenHash())
        .append("session", r.sessionId())
        .append("subject", r.subject())
        .append("audience", r.audience())
        .append("created_at", Date.from(r.createdAt()))
        .append("expires_at", Date.from(r.expiresAt()))
        .append("session_expires_at", Date.from(r.sessionExpiresAt()))
        .append("used_at", null));
    barrier.afterWrite();
  }

  @Override
  public Optional<RefreshRecord> findByHash(String tokenHash) {
    Document doc = tokens.find(eq("_id", tokenHash)).first();
    if (doc == null) {
      return Optional.empty();
    }
    // a record edited by hand into other types is read closed, never a failed read (INTERNAL on
    // every use of the token): names that are not text make it unknown, times that are not dates
    // make it expired, a use that is not a date makes it used
    if (!(doc.get("session") instanceof String session) || !(doc.get("subject") instanceof String subject)
        || (doc.get("audience") != null && !(doc.get("audience") instanceof String))) {
      return Optional.empty();
    }
    Object usedAt = doc.get("used_at");
    // either lifetime unreadable expires the token itself: a refresh checks the token's own
    boolean lifetimesRead = doc.get("expires_at") instanceof Date && doc.get("session_expires_at") instanceof Date;
    return Optional.of(new RefreshRecord(tokenHash, session, subject, (String) doc.get("audience"),
        Documents.instantOrEpoch(doc.get("created_at")), lifetimesRead ? Documents.instantOrEpoch(doc.get("expires_at")) : Instant.EPOCH,
        Documents.instantOrEpoch(doc.get("session_expires_at")),
        usedAt == null ? Optional.empty() : Optional.of(Documents.instantOrEpoch(usedAt))));
  }

  @Override
  public boolean claim(String tokenHash, Instant now) {
    // a conditional update is atomic on one document: of two concurrent uses exactly one wins
    long modified = tokens.updateOne(and(eq("_id", tokenHash), eq("used_at", null)),
        Updates.set("used_at", Date.from(now))).getModifiedCount();
    barrier.afterWrite();
    return modified == 1;
  }

  @Override
  public Set<String> liveSessionsOf(String subject, Instant now) {
    Set<String> sessions = new HashSet<>();
    tokens.find(and(eq("subject", subject), gt("expires_at", Date.from(now))))
        .forEach(doc -> {
          if (doc.get("session") instanceof String session) {
            sessions.add(session);
          }
        });
    return sessions;
  }

  @Override
  public Optional<Instant> latestExpiryOf(String subject, String sessionId) {
    // the subject index narrows it to the user's tokens
    // a time that is not a date (an edit) sorts by its type in BSON, not by its value: only dates are compared
    Document newest = tokens.find(and(eq("subject", subject), eq("session", sessionId),
            com.mongodb.client.model.Filters.type("expires_at", org.bson.BsonType.DATE_TIME)))
        .sort(Sorts.descending("expires_at")).projection(new Document("expires_at", 1)).first();
    return newest == null ? Optional.empty() : Optional.of(Documents.instantOrEpoch(newest.get("expires_at")));
  }

  @Override
  public long deleteExpired(Instant now) {
    long deleted = tokens.deleteMany(lt("expires_at", Date.from(now))).getDeletedCount();
    if (deleted > 0) {
      barrier.afterWrite();
    }
    return deleted;
  }
}
