package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gt;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.nor;
import static com.mongodb.client.model.Filters.lte;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Sorts;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.paging.Pages;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.bson.Document;
import org.bson.conversions.Bson;

/**
 * Checkpoints in {@code audit_checkpoints} ({@code _id} {@code <kind>:<chain>:<seq>}, so writing
 * one twice is harmless) and the register of chains in {@code audit_chains}.
 */
final class MongoCheckpointStore implements CheckpointStore {
  static final String COLLECTION = "audit_checkpoints";
  static final String CHAINS = "audit_chains";
  private static final int PAGE = 500;
  private static final List<String> VOUCHING = List.of(Checkpoint.Kind.PERIODIC.name(), Checkpoint.Kind.SHUTDOWN.name());

  private final MongoCollection<Document> checkpoints;
  private final MongoCollection<Document> chains;
  private final WriteBarrier barrier;

  MongoCheckpointStore(MongoCollection<Document> checkpoints, MongoCollection<Document> chains, WriteBarrier barrier) {
    this.checkpoints = checkpoints;
    this.chains = chains;
    this.barrier = barrier;
  }

  static String id(Checkpoint c) {
    String id = c.kind().name().toLowerCase() + ":" + c.chain() + ":" + c.seq();
    // a checkpoint reporting losses may come at the same head as the one before it
    return c.lost().isEmpty() ? id : id + ":lost:" + c.lost().get(0).fromSeq() + "-"
        + c.lost().get(c.lost().size() - 1).toSeq();
  }

  @Override
  public void insert(Checkpoint c) {
    List<Document> heads = new ArrayList<>();
    for (Checkpoint.Head head : c.heads()) {
      heads.add(new Document("chain", head.chain()).append("seq", head.seq()).append("hash", head.hash()));
    }
    Document doc = new Document("_id", id(c)).append("kind", c.kind().name()).append("chain", c.chain())
        .append("seq", c.seq()).append("hash", c.hash()).append("time", new Date(c.time())).append("heads", heads)
        .append("prev_checkpoint_hash", c.prevCheckpointHash()).append("checkpoint_hash", c.checkpointHash())
        .append("signature", c.signature());
    if (!c.lost().isEmpty()) {
      List<Document> lost = new ArrayList<>();
      for (Checkpoint.Lost l : c.lost()) {
        lost.add(new Document("from_seq", l.fromSeq()).append("to_seq", l.toSeq()).append("prev_hash", l.prevHash())
            .append("hash", l.hash()).append("reason", l.reason()));
      }
      doc.append("lost", lost);
    }
    try {
      checkpoints.insertOne(doc);
    } catch (MongoWriteException e) {
      if (!Documents.isDuplicateKey(e)) {
        throw e;
      }
    }
    barrier.afterWrite();
  }

  /** As stored, however altered: a field of the wrong type reads as a value no signature covers. */
  static Checkpoint toCheckpoint(Document doc) {
    List<Checkpoint.Head> heads = new ArrayList<>();
    if (doc.get("heads") instanceof List<?> list) {
      for (Object item : list) {
        if (item instanceof Document h) {
          heads.add(new Checkpoint.Head(text(h, "chain"), number(h, "seq"), text(h, "hash")));
        }
      }
    }
    Checkpoint.Kind kind;
    try {
      kind = Checkpoint.Kind.valueOf(text(doc, "kind"));
    } catch (IllegalArgumentException e) {
      kind = Checkpoint.Kind.PERIODIC;
      heads.add(new Checkpoint.Head("", -1, "kind was altered"));
    }
    List<Checkpoint.Lost> lost = new ArrayList<>();
    if (doc.get("lost") instanceof List<?> list) {
      for (Object item : list) {
        lost.add(item instanceof Document l
            ? new Checkpoint.Lost(number(l, "from_seq"), number(l, "to_seq"), text(l, "prev_hash"), text(l, "hash"),
                text(l, "reason"))
            : new Checkpoint.Lost(Long.MIN_VALUE, Long.MIN_VALUE, "", "", "not-as-written"));
      }
    } else if (doc.containsKey("lost")) {
      lost.add(new Checkpoint.Lost(Long.MIN_VALUE, Long.MIN_VALUE, "", "", "not-as-written"));
    }
    return new Checkpoint(kind, text(doc, "chain"), number(doc, "seq"), text(doc, "hash"),
        doc.get("time") instanceof Date d ? d.getTime() : Long.MIN_VALUE, heads, text(doc, "prev_checkpoint_hash"),
        text(doc, "signature"), lost);
  }

  private static String text(Document doc, String field) {
    Object value = doc.get(field);
    return value instanceof String s ? s : value == null ? "" : "not-as-written:" + value;
  }

  private static long number(Document doc, String field) {
    Object value = doc.get(field);
    return value instanceof Long || value instanceof Integer ? ((Number) value).longValue() : Long.MIN_VALUE;
  }

  @Override
  public long count(long atMost) {
    return countUpTo(new Document(), atMost);
  }

  /** The checkpoints the filter matches, counted no further than {@code atMost}: a bounded scan. */
  private long countUpTo(Bson filter, long atMost) {
    return checkpoints.countDocuments(filter, new com.mongodb.client.model.CountOptions().limit(
        (int) Math.min(Integer.MAX_VALUE, atMost)));
  }

  @Override
  public Iterable<Checkpoint> all() {
    return () -> {
      Iterator<Document> documents = Pages.after("", (lastId, size) -> checkpoints.find(gt("_id", lastId))
          .sort(Sorts.ascending("_id")).limit(size).into(new ArrayList<>()), doc -> doc.getString("_id"), PAGE);
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return documents.hasNext();
        }

        @Override
        public Checkpoint next() {
          return toCheckpoint(documents.next());
        }
      };
    };
  }

  @Override
  public List<Stored> page(Optional<Instant> start, Optional<Instant> end, Optional<PagePosition> after,
      int limit) {
    List<Bson> clauses = new ArrayList<>();
    start.ifPresent(s -> clauses.add(gte("time", Date.from(s))));
    end.ifPresent(e -> clauses.add(lt("time", Date.from(e))));
    after.ifPresent(p -> clauses.add(com.mongodb.client.model.Filters.or(gt("time", Date.from(p.time())),
        and(eq("time", Date.from(p.time())), gt("_id", p.id())))));
    Bson query = clauses.isEmpty() ? new Document() : and(clauses);
    List<Stored> out = new ArrayList<>();
    // oldest first, as the API says: the ids (kind, chain, seq as text) put a chain's seq 10 before
    // its seq 9, and every periodic checkpoint before every shutdown one
    checkpoints.find(query).sort(Sorts.ascending("time", "_id")).limit(limit)
        .forEach(doc -> out.add(new Stored(String.valueOf(doc.get("_id")), toCheckpoint(doc))));
    return out;
  }

  @Override
  public long countSince(Instant from, long atMost) {
    return countUpTo(gte("time", Date.from(from)), atMost);
  }

  @Override
  public Optional<Instant> newestTime() {
    Document newest = checkpoints.find(com.mongodb.client.model.Filters.type("time", org.bson.BsonType.DATE_TIME))
        .sort(Sorts.descending("time", "_id")).projection(new Document("time", 1)).first();
    return Optional.ofNullable(newest).map(d -> d.getDate("time").toInstant());
  }

  @Override
  public Optional<Checkpoint> ownAtOrBefore(String chain, Instant time) {
    return Optional.ofNullable(checkpoints.find(and(eq("chain", chain), in("kind", VOUCHING),
        lte("time", Date.from(time)))).sort(Sorts.descending("seq", "time", "_id")).first())
        // a loss checkpoint shares its head's seq and comes after it: the verifier anchors on the later
        .map(MongoCheckpointStore::toCheckpoint);
  }

  @Override
  public Optional<Checkpoint> latestAtOrBefore(String chain, long seq) {
    return Optional.ofNullable(checkpoints.find(and(eq("chain", chain), lte("seq", seq), in("kind", VOUCHING)))
        .sort(Sorts.descending("seq", "time")).first()).map(MongoCheckpointStore::toCheckpoint);
  }

  @Override
  public long seqCheckpointedBy(String chain, Instant time) {
    Document latest = checkpoints.find(and(eq("chain", chain), lte("time", Date.from(time))))
        .sort(Sorts.descending("seq")).projection(new Document("seq", 1)).first();
    return latest != null && latest.get("seq") instanceof Number n ? n.longValue() : 0;
  }

  @Override
  public java.util.OptionalLong shutdownSeq(String chain) {
    return newestShutdown(chain, new Document("seq", 1).append("kind", 1))
        .map(d -> java.util.OptionalLong.of(((Number) d.get("seq")).longValue())).orElse(java.util.OptionalLong.empty());
  }

  @Override
  public Optional<Checkpoint> shutdown(String chain) {
    return newestShutdown(chain, null).map(MongoCheckpointStore::toCheckpoint);
  }

  /**
   * The chain's shutdown checkpoint, if its highest seq has one (only the fields of
   * {@code projection}, when one is given). A shutdown checkpoint is its writer's last: none of the
   * chain's has a higher seq, and at most one of each kind shares its seq (the _id). So the top
   * three of the (chain, seq) index hold it if there is one, where a filter on kind would walk
   * every checkpoint of a run that crashed, and this is asked of such runs at every checkpoint and
   * by every open stream.
   */
  private Optional<Document> newestShutdown(String chain, Document projection) {
    Long top = null;
    var found = checkpoints.find(eq("chain", chain)).sort(Sorts.descending("seq")).limit(3);
    for (Document d : projection == null ? found : found.projection(projection)) {
      if (!(d.get("seq") instanceof Number seq)) {
        continue;   // not a checkpoint this server wrote; verification reports it
      }
      top = top == null ? seq.longValue() : top;
      if (seq.longValue() == top && Checkpoint.Kind.SHUTDOWN.name().equals(d.get("kind"))) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  @Override
  public Optional<Checkpoint> purge(String chain) {
    return Optional.ofNullable(checkpoints.find(and(eq("chain", chain), eq("kind", Checkpoint.Kind.PURGE.name())))
        .sort(Sorts.descending("seq")).first()).map(MongoCheckpointStore::toCheckpoint);
  }

  @Override
  public void deleteCoveredBy(Checkpoint purge) {
    // a checkpoint that records lost events past the purge is kept: it still explains their gap
    checkpoints.deleteMany(and(eq("chain", purge.chain()), lte("seq", purge.seq()), in("kind", VOUCHING),
        nor(gt("lost.to_seq", purge.seq()))));
    checkpoints.deleteMany(and(eq("chain", purge.chain()), lt("seq", purge.seq()),
        eq("kind", Checkpoint.Kind.PURGE.name())));
    barrier.afterWrite();
  }

  @Override
  public void registerChain(String chain, String instance, Instant started) {
    try {
      chains.insertOne(new Document("_id", chain).append("instance", instance).append("started_at", Date.from(started)));
    } catch (MongoWriteException e) {
      if (!Documents.isDuplicateKey(e)) {
        throw e;
      }
    }
    barrier.afterWrite();
  }

  @Override
  public long registeredChainCount() {
    return chains.countDocuments();
  }

  @Override
  public List<String> registeredChains() {
    List<String> out = new ArrayList<>();
    // a run's chain id is text; an entry of another type (an edit) names no chain an event can
    // be on, and one such entry must not fail every stream, checkpoint and verification
    chains.find().forEach(doc -> {
      if (doc.get("_id") instanceof String chain) {
        out.add(chain);
      }
    });
    return out;
  }
}
