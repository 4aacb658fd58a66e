package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.lte;
import static com.mongodb.client.model.Filters.or;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Sorts;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditFilter;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.AuditPosition;
import dev.authservice.server.audit.AuditStore;
import dev.authservice.server.storage.WriteBarrier;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Events in the {@code audit_events} collection, one document each. Queries sort by
 * {@code time} then {@code _id}, descending, and page by keyset on that pair (never skip), so a
 * page boundary stays put while new events arrive.
 */
final class MongoAuditStore implements AuditStore {
  static final String COLLECTION = "audit_events";

  private final MongoCollection<Document> events;
  private final WriteBarrier barrier;

  MongoAuditStore(MongoCollection<Document> events, WriteBarrier barrier) {
    this.events = events;
    this.barrier = barrier;
  }

  @Override
  public void insertAll(List<AuditEvent> batch) {
    if (batch.isEmpty()) {
      return;
    }
    try {
      events.insertMany(batch.stream().map(MongoAuditStore::toDocument).toList(),
          new InsertManyOptions().ordered(false));
    } catch (MongoBulkWriteException e) {
      // a retried batch meets its own earlier writes: those ids are there already, which is fine
      boolean onlyDuplicates = e.getWriteErrors().stream()
          .allMatch(error -> ErrorCategory.fromErrorCode(error.getCode()) == ErrorCategory.DUPLICATE_KEY);
      if (!onlyDuplicates || e.getWriteConcernError() != null) {
        throw e;
      }
    }
  }

  @Override
  public void sync() {
    barrier.afterWrite();
  }

  @Override
  public List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit) {
    List<Bson> clauses = new ArrayList<>();
    if (!filter.types().isEmpty()) {
      clauses.add(in("type", filter.types().stream().map(AuditEventType::storedName).toList()));
    }
    filter.username().ifPresent(u -> clauses.add(eq("username", u)));
    filter.outcome().ifPresent(o -> clauses.add(eq("outcome", o.storedName())));
    filter.start().ifPresent(s -> clauses.add(gte("time", Date.from(s))));
    if (after.isPresent()) {
      // everything on the next page is at or before the last event shown, which lies before the
      // end; saying so as a plain bound lets an index walk start right there
      AuditPosition p = after.get();
      clauses.add(lte("time", Date.from(p.time())));
      clauses.add(or(lt("time", Date.from(p.time())), and(eq("time", Date.from(p.time())), lt("_id", p.id()))));
    } else {
      filter.end().ifPresent(e -> clauses.add(lt("time", Date.from(e))));
    }
    filter.clientIp().ifPresent(ip -> clauses.add(eq("client_ip", ip)));
    filter.tokenId().ifPresent(t -> clauses.add(eq("token_id", t)));
    Bson query = clauses.isEmpty() ? new Document() : and(clauses);
    List<AuditEvent> page = new ArrayList<>(limit);
    events.find(query).sort(Sorts.descending("time", "_id")).limit(limit)
        .forEach(doc -> page.add(toEvent(doc)));
    return page;
  }

  @Override
  public long deleteOlderThan(java.time.Instant cutoff, int batch) {
    List<Object> ids = new ArrayList<>(batch);
    events.find(lt("time", Date.from(cutoff))).projection(new Document("_id", 1)).limit(batch)
        .forEach(doc -> ids.add(doc.get("_id")));
    if (ids.isEmpty()) {
      return 0;
    }
    long deleted = events.deleteMany(in("_id", ids)).getDeletedCount();
    barrier.afterWrite();
    return deleted;
  }

  static Document toDocument(AuditEvent e) {
    Document doc = new Document("_id", e.id())
        .append("time", Date.from(e.time()))
        .append("type", e.type().storedName())
        .append("outcome", e.outcome().storedName());
    Documents.putIfPresent(doc, "username", e.username());
    Documents.putIfPresent(doc, "subject", e.subject());
    Documents.putIfPresent(doc, "token_id", e.tokenId());
    Documents.putIfPresent(doc, "client_ip", e.clientIp());
    Documents.putIfPresent(doc, "user_agent", e.userAgent());
    Documents.putIfPresent(doc, "rpc_method", e.rpcMethod());
    Documents.putIfPresent(doc, "reason", e.reason());
    Documents.putIfPresent(doc, "instance", e.instance());
    Documents.putIfPresent(doc, "actor", e.actor());
    Documents.putIfPresent(doc, "peer_identity", e.peerIdentity());
    doc.append("count", e.count());
    if (e.count() > 1) {
      doc.append("first_time", Date.from(e.firstTime())).append("last_time", Date.from(e.lastTime()));
    }
    return doc;
  }

  static AuditEvent toEvent(Document doc) {
    return new AuditEvent(doc.getString("_id"), Documents.instant(doc, "time"),
        AuditEventType.fromStoredName(doc.getString("type")),
        AuditOutcome.fromStoredName(doc.getString("outcome")),
        Documents.string(doc, "username"), Documents.string(doc, "subject"),
        Documents.string(doc, "token_id"), Documents.string(doc, "client_ip"),
        Documents.string(doc, "user_agent"), Documents.string(doc, "rpc_method"),
        Documents.string(doc, "reason"), Documents.string(doc, "instance"),
        Documents.string(doc, "actor"), Documents.string(doc, "peer_identity"),
        doc.get("count") instanceof Number n ? n.longValue() : 1L,
        doc.getDate("first_time") == null ? null : doc.getDate("first_time").toInstant(),
        doc.getDate("last_time") == null ? null : doc.getDate("last_time").toInstant());
  }
}
