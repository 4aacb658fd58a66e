package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.exists;
import static com.mongodb.client.model.Filters.gt;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.in;
import static com.mongodb.client.model.Filters.lt;
import static com.mongodb.client.model.Filters.lte;
import static com.mongodb.client.model.Filters.nin;
import static com.mongodb.client.model.Filters.or;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Sorts;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.read.AuditPosition;
import dev.authservice.server.audit.chain.ChainReads;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.audit.write.EventWrites;
import dev.authservice.server.audit.read.AuditSummary;
import dev.authservice.integrity.ChainedEvent;
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
/** The three ports of the trail (writing, reading, chains) over {@code audit_events}. */
public final class MongoAuditStore implements EventWrites, EventReads, ChainReads {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MongoAuditStore.class);
  /** Events of one group a review rule holds: far past every threshold, yet small. */
  private static final int MAX_EVENTS_PER_GROUP = 10_000;
  static final String COLLECTION = "audit_events";

  private final MongoCollection<Document> events;
  /** The same collection, its events decoded without a Document in between (chain pages: what streams read). */
  private final MongoCollection<StoredEventCodec.Stored> storedEvents;
  private final WriteBarrier barrier;
  private final Optional<MongoDatabase> database;
  /** The embedded store's command that {@link #restoreAll} runs, and MongoDB's code for a command it does not know. */
  private static final String RESTORE_COMMAND = "restoreDocuments";
  private static final int COMMAND_NOT_FOUND = 59;

  MongoAuditStore(MongoCollection<Document> events, WriteBarrier barrier) {
    this(Optional.empty(), events, barrier);
  }

  /** With the database, for {@link #restoreAll}'s command. */
  MongoAuditStore(Optional<MongoDatabase> database, MongoCollection<Document> events, WriteBarrier barrier) {
    this.database = database;
    this.events = events;
    this.storedEvents = StoredEventCodec.readingDirectly(events);
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

  /**
   * On the embedded store, its own {@code restoreDocuments} command: each event stored whole with
   * its index entries, whatever part of it a crash left (its commits go map by map), and a stored
   * event of other content under the same id left as it is. MongoDB has no such command and needs
   * none (a write it acknowledged is whole): there, and on any store without the command, an
   * insert that leaves stored events alone.
   */
  @Override
  public void restoreAll(List<AuditEvent> batch) {
    if (batch.isEmpty()) {
      return;
    }
    if (database.isPresent()) {
      try {
        Document answer = database.get().runCommand(new Document(RESTORE_COMMAND, COLLECTION)
            .append("documents", batch.stream().map(MongoAuditStore::toDocument).toList()));
        if (answer.get("kept") instanceof Number kept && kept.intValue() > 0) {
          log.warn("audit journal replay: {} of {} events left as stored, which differs from what was journaled"
              + " under the same id (VerifyAudit checks the stored ones)", kept, batch.size());
        }
        return;
      } catch (MongoCommandException e) {
        if (e.getErrorCode() != COMMAND_NOT_FOUND) {
          throw e;
        }
      }
    }
    insertAll(batch);
  }

  @Override
  public void sync() {
    barrier.afterWrite();
  }

  @Override
  public List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit) {
    // the page's filter, resuming after the last event shown: everything on the next page is at or
    // before it, and it lies before the end; saying so as a plain bound lets an index walk start there
    AuditFilter within = after.isPresent() ? filter.between(filter.start(), Optional.empty()) : filter;
    List<Bson> position = new ArrayList<>(3);
    if (within.start().isEmpty() && within.end().isEmpty() && after.isEmpty()) {
      // a bound compares with dates only: an event whose time an edit made something else (a
      // timestamp or a regex sorts above every date) has no place in time to page from, and a
      // page ending on it would resume before 1970 and hide the rest of the trail; only the first
      // page lacks a bound, so it takes one that holds every date
      position.add(lte("time", LATEST_DATE));
    }
    after.ifPresent(p -> {
      position.add(lte("time", Date.from(p.time())));
      position.add(or(lt("time", Date.from(p.time())), and(eq("time", Date.from(p.time())), lt("_id", p.id()))));
    });
    List<AuditEvent> page = new ArrayList<>(limit);
    List<Bson> parts = pageParts(within);
    for (int i = 0; i < parts.size(); i++) {
      List<Bson> clauses = new ArrayList<>(position);
      clauses.add(0, parts.get(i));
      Bson query = and(clauses);
      if (i == 0) {
        events.find(query).sort(Sorts.descending("time", "_id")).limit(limit).forEach(doc -> page.add(toEvent(doc)));
      } else {
        addNewestInGaps(query, limit, page);
      }
    }
    if (parts.size() > 1 && page.size() > 1) {
      // the parts are disjoint, each newest first: together, the newest of them make the page
      page.sort(NEWEST_FIRST);
    }
    return page.size() > limit ? List.copyOf(page.subList(0, limit)) : page;
  }

  /**
   * The newest {@code limit} events of a page's second part (pageParts), added to the page. The gaps
   * between the known values are ranges, which no index walks in time order; named by its index,
   * the part walks them (nothing there, on an honest trail) instead of following the time index
   * through the whole trail to find nothing. What it finds is read as id and time only and the
   * newest kept here, at most {@code limit} at a time, then read whole: however many such events
   * a newer version wrote, neither this heap nor the embedded store's holds more than their ids.
   */
  private void addNewestInGaps(Bson query, int limit, List<AuditEvent> page) {
    java.util.PriorityQueue<Document> newest = new java.util.PriorityQueue<>(limit + 1, OLDEST_FIRST);
    try (MongoCursor<Document> found = events.aggregate(List.of(Aggregates.match(query),
            Aggregates.project(new Document("time", 1)))).hintString(MongoStorage.TYPE_OUTCOME_TIME_COUNT_INDEX)
        .batchSize(1000).cursor()) {
      while (found.hasNext()) {
        newest.add(found.next());
        if (newest.size() > limit) {
          newest.poll();
        }
      }
    }
    if (!newest.isEmpty()) {
      events.find(in("_id", newest.stream().map(doc -> doc.get("_id")).toList())).forEach(doc -> page.add(toEvent(doc)));
    }
  }

  private static final java.util.Comparator<Document> OLDEST_FIRST =
      java.util.Comparator.comparing((Document doc) -> Documents.instantOrEpoch(doc.get("time")))
          .thenComparing(doc -> shown(doc, "_id"), MongoAuditStore::byCodePoint);

  /** The latest time BSON can hold. */
  private static final Date LATEST_DATE = new Date(Long.MAX_VALUE);

  /**
   * The order of a page, as the store sorts it: time, then id (text, compared by code point as BSON
   * compares strings), both descending.
   */
  private static final java.util.Comparator<AuditEvent> NEWEST_FIRST =
      java.util.Comparator.comparing(AuditEvent::time).thenComparing(AuditEvent::id, MongoAuditStore::byCodePoint)
          .reversed();

  private static int byCodePoint(String a, String b) {
    return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
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
    Documents.putIfPresent(doc, "trace_id", e.traceId());
    doc.append("count", e.count());
    if (e.count() > 1) {
      doc.append("first_time", Date.from(e.firstTime())).append("last_time", Date.from(e.lastTime()));
    }
    e.alert().ifPresent(a -> doc.append("alert", new Document("rule", a.rule()).append("severity", a.severity())
        .append("summary", a.summary()).append("evidence_event_ids", a.evidenceEventIds()).append("count", a.count())));
    if (e.isSealed()) {
      doc.append("chain", e.chain()).append("seq", e.seq()).append("prev_hash", e.prevHash()).append("hash", e.hash());
    }
    return doc;
  }

  /**
   * The event a document holds, as QueryAudit and StreamAudit list it. A field edited into another
   * type (a name that is a number, a time that is text) is listed as it reads, never a failed read:
   * a failed read would fail every caller's page it is on. VerifyAudit is what tells an edit.
   */
  static AuditEvent toEvent(Document doc) {
    return new AuditEvent(shown(doc, "_id"), Documents.instantOrEpoch(doc.get("time")),
        AuditEventType.fromStoredName(textOrNull(doc, "type")),
        AuditOutcome.fromStoredName(textOrNull(doc, "outcome")),
        shown(doc, "username"), shown(doc, "subject"),
        shown(doc, "token_id"), shown(doc, "client_ip"),
        shown(doc, "user_agent"), shown(doc, "rpc_method"),
        shown(doc, "reason"), shown(doc, "instance"),
        shown(doc, "actor"), shown(doc, "peer_identity"), shown(doc, "trace_id"),
        doc.get("count") instanceof Number n ? Math.max(1L, n.longValue()) : 1L,
        doc.get("first_time") instanceof Date first ? first.toInstant() : null,
        doc.get("last_time") instanceof Date last ? last.toInstant() : null,
        alert(doc.get("alert")), shown(doc, "chain"),
        doc.get("seq") instanceof Number seq ? seq.longValue() : 0L,
        shown(doc, "prev_hash"), shown(doc, "hash"));
  }

  /** A field as text: empty when absent, a value of another type as it reads. */
  private static String shown(Document doc, String field) {
    return Documents.text(doc.get(field));
  }

  private static String textOrNull(Document doc, String field) {
    return doc.get(field) instanceof String s ? s : null;
  }

  static Optional<AuditEvent.Alert> alert(Object value) {
    if (!(value instanceof Document a)) {
      return Optional.empty();
    }
    List<String> evidence = new ArrayList<>();
    if (a.get("evidence_event_ids") instanceof List<?> ids) {
      ids.forEach(id -> evidence.add(String.valueOf(id)));
    }
    return Optional.of(new AuditEvent.Alert(shown(a, "rule"), shown(a, "severity"),
        shown(a, "summary"), evidence, a.get("count") instanceof Number n ? n.longValue() : 0L));
  }

  /**
   * The document as verification must see it: exactly what is stored. A field of the wrong type
   * becomes a value no honest event has, so its hash cannot match; absent optional fields take
   * the values the writer hashed (empty strings, the event's own time for a single event).
   */
  static ChainedEvent toChained(Document doc) {
    long time = millis(doc.get("time"));
    Optional<ChainedEvent.Alert> alert = Optional.empty();
    if (doc.containsKey("alert")) {
      if (doc.get("alert") instanceof Document a) {
        List<String> evidence = new ArrayList<>();
        if (a.get("evidence_event_ids") instanceof List<?> ids) {
          ids.forEach(id -> evidence.add(id instanceof String s ? s : TAMPERED + id));
        } else {
          evidence.add(TAMPERED);
        }
        alert = Optional.of(new ChainedEvent.Alert(text(a, "rule"), text(a, "severity"), text(a, "summary"),
            evidence, number(a, "count", Long.MIN_VALUE)));
      } else {
        alert = Optional.of(new ChainedEvent.Alert(TAMPERED, "", "", List.of(), Long.MIN_VALUE));
      }
    }
    long count = number(doc, "count", 1L);
    return new ChainedEvent(doc.get("_id") instanceof String id ? id : TAMPERED + doc.get("_id"), time,
        text(doc, "type"), text(doc, "outcome"), text(doc, "username"), text(doc, "subject"),
        text(doc, "token_id"), text(doc, "client_ip"), text(doc, "user_agent"), text(doc, "rpc_method"),
        text(doc, "reason"), text(doc, "instance"), text(doc, "actor"), text(doc, "peer_identity"),
        text(doc, "trace_id"), count,
        doc.containsKey("first_time") ? millis(doc.get("first_time")) : time,
        doc.containsKey("last_time") ? millis(doc.get("last_time")) : time,
        alert, text(doc, "chain"), number(doc, "seq", Long.MIN_VALUE), text(doc, "prev_hash"), text(doc, "hash"));
  }

  private static final String TAMPERED = "\u0000not-as-written:";

  private static String text(Document doc, String field) {
    Object value = doc.get(field);
    return value == null ? "" : value instanceof String s ? s : TAMPERED + value;
  }

  private static long number(Document doc, String field, long whenAbsent) {
    Object value = doc.get(field);
    if (value == null) {
      return whenAbsent;
    }
    return value instanceof Long || value instanceof Integer ? ((Number) value).longValue() : Long.MIN_VALUE;
  }

  private static long millis(Object value) {
    return value instanceof Date d ? d.getTime() : Long.MIN_VALUE;
  }

  @Override
  public List<AuditSummary.Row> summarize(AuditSummary.Query query, int maxRows) {
    if (query.groupBy().stream().anyMatch(AuditSummary.Dimension::unbounded)) {
      return summarizeStreaming(query, maxRows);
    }
    Document id = new Document();
    if (query.bucket() != AuditSummary.Bucket.WHOLE_RANGE) {
      // bucket start = time - (time - epoch) mod width: UTC boundaries, with the arithmetic every
      // MongoDB since 3.x and the embedded store both run ($dateTrunc is 5.0+ and not embedded)
      long width = query.bucket().width().toMillis();
      id.append("b", new Document("$subtract", List.of("$time", new Document("$mod",
          List.of(new Document("$subtract", List.of("$time", new Date(0))), width)))));
    }
    for (int i = 0; i < query.groupBy().size(); i++) {
      id.append("k" + i, "$" + query.groupBy().get(i).field());
    }
    Document group = new Document("$group", new Document("_id", id)
        .append("n", new Document("$sum", new Document("$ifNull", List.of("$count", 1L)))));
    // grouping by type, outcome or method: a few rows per bucket, whatever the number of events
    AuditSummary.Counter counter = new AuditSummary.Counter(maxRows, query.groupBy().size());
    if (coveredByTypeOutcomeIndex(query)) {
      for (Bson part : coveredParts(query.filter())) {
        // the index's name, so that every store answers from it: the summary never reads an event document
        count(events.aggregate(List.of(Aggregates.match(part), COVERED_FIELDS, group))
            .hintString(MongoStorage.TYPE_OUTCOME_TIME_COUNT_INDEX), query, counter);
      }
    } else {
      count(events.aggregate(List.of(Aggregates.match(match(query.filter())), group)), query, counter);
    }
    return counter.rows();
  }

  private static void count(Iterable<Document> groups, AuditSummary.Query query, AuditSummary.Counter counter) {
    for (Document group : groups) {
      Document key = group.get("_id", Document.class);
      Optional<java.time.Instant> bucket = key.get("b") instanceof Date d ? Optional.of(d.toInstant()) : Optional.empty();
      List<String> keys = new ArrayList<>(query.groupBy().size());
      for (int i = 0; i < query.groupBy().size(); i++) {
        Object value = key.get("k" + i);
        keys.add(value == null ? "" : String.valueOf(value));
      }
      // a covered read may give the count back as a double: exact for any count below 2^53
      counter.add(bucket, keys, ((Number) group.get("n")).longValue());
    }
  }

  /** The fields a summary by type, outcome and time reads: all keys of type_outcome_time_count. */
  private static final Document COVERED_FIELDS = new Document("$project", new Document("_id", 0).append("type", 1)
      .append("outcome", 1).append("time", 1).append("count", 1));

  /**
   * Whether the {@code type_outcome_time_count} index holds everything the summary reads: its
   * filter is types, outcome and a time range at most, its groups type and outcome at most.
   */
  private static boolean coveredByTypeOutcomeIndex(AuditSummary.Query query) {
    AuditFilter f = query.filter();
    boolean otherFilter = f.username().isPresent() || f.clientIp().isPresent() || f.tokenId().isPresent()
        || f.traceId().isPresent();
    return !otherFilter && query.groupBy().stream()
        .allMatch(d -> d == AuditSummary.Dimension.TYPE || d == AuditSummary.Dimension.OUTCOME);
  }

  /**
   * The summary's filter as index ranges: type and outcome both pinned, so that the index's leading
   * keys are walked per (type, outcome) pair within the time range (as {@link #pageParts} does for a
   * page). Pinning to every value this version knows would leave out an event whose stored type or
   * outcome it does not know (one a newer version wrote into the same store, or an edited document);
   * the summary counts what is stored, so two more parts take those: the types outside the known
   * ones, then known types with an outcome outside the known ones. On an honest trail both find
   * nothing, each by walking the gaps between the known values, which hold no entries. The parts
   * are disjoint and together exactly the filter.
   */
  private static List<Bson> coveredParts(AuditFilter filter) {
    List<Bson> parts = new ArrayList<>(3);
    Bson base = match(filter);
    List<Bson> known = new ArrayList<>(List.of(base));
    if (filter.types().isEmpty()) {
      known.add(in("type", EVERY_TYPE));
      parts.add(and(base, nin("type", EVERY_TYPE)));
    }
    if (filter.outcome().isEmpty()) {
      known.add(in("outcome", EVERY_OUTCOME));
      List<Bson> unknownOutcome = new ArrayList<>(List.of(base, nin("outcome", EVERY_OUTCOME)));
      if (filter.types().isEmpty()) {
        unknownOutcome.add(in("type", EVERY_TYPE));
      }
      parts.add(and(unknownOutcome));
    }
    parts.add(0, and(known));
    return parts;
  }

  /**
   * A dimension callers choose the values of (usernames, addresses, reasons) can have any number
   * of groups, and a {@code $group} holds them all (in the embedded store, in this JVM's heap).
   * Such summaries read the matching events instead, only the fields they count, and count them
   * here with a bounded number of rows.
   */
  private List<AuditSummary.Row> summarizeStreaming(AuditSummary.Query query, int maxRows) {
    Document fields = new Document("_id", 0).append("time", 1).append("count", 1);
    query.groupBy().forEach(d -> fields.append(d.field(), 1));
    AuditSummary.Counter counter = new AuditSummary.Counter(maxRows, query.groupBy().size());
    for (Document doc : events.find(match(query.filter())).projection(fields).batchSize(1000)) {
      List<String> keys = new ArrayList<>(query.groupBy().size());
      for (AuditSummary.Dimension d : query.groupBy()) {
        Object value = doc.get(d.field());
        keys.add(value == null ? "" : String.valueOf(value));
      }
      Object time = doc.get("time");
      counter.add(time instanceof Date d ? query.bucketOf(d.toInstant()) : Optional.empty(), keys,
          doc.get("count") instanceof Number n ? n.longValue() : 1L);
    }
    return counter.rows();
  }

  @Override
  public java.util.Map<String, List<EventRef>> grouped(AuditFilter filter, java.util.Set<String> reasons,
      String groupBy, int maxEvents) {
    Bson match = reasons.isEmpty() ? match(filter) : and(match(filter), in("reason", List.copyOf(reasons)));
    Document fields = new Document("_id", 1).append("time", 1).append("outcome", 1).append("username", 1)
        .append("client_ip", 1).append("reason", 1).append("actor", 1).append("count", 1).append(groupBy, 1);
    // read in time order and grouped here, up to a bound: a $group would hold every group at once,
    // and callers choose usernames and addresses
    java.util.Map<String, List<EventRef>> groups = new java.util.TreeMap<>();
    // one busy group (a flood from one address) must not use up what the others need
    int perGroup = Math.max(1, Math.min(maxEvents, MAX_EVENTS_PER_GROUP));
    int held = 0;
    // closed when the bound stops the read: a for-each's break would leave the cursor open on the
    // store (the embedded store keeps it for ever, MongoDB ten minutes), one per rule and review
    try (MongoCursor<Document> cursor = events.find(match).sort(new Document("time", 1).append("_id", 1))
        .projection(fields).batchSize(1000).cursor()) {
      while (cursor.hasNext()) {
        Document e = cursor.next();
        if (held++ >= maxEvents) {
          log.warn("review: more than {} matching events between {} and {}; the later ones were not examined"
              + " (AUTH_REVIEW_MAX_EVENTS)", maxEvents, filter.start().orElse(null), filter.end().orElse(null));
          break;
        }
        Object key = e.get(groupBy);
        List<EventRef> group = groups.computeIfAbsent(key == null ? "" : String.valueOf(key), k -> new ArrayList<>());
        if (group.size() >= perGroup) {
          held--;
          continue;
        }
        group.add(new EventRef(
            String.valueOf(e.get("_id")), Documents.instantOrEpoch(e.get("time")), AuditOutcome.fromStoredName(textOrNull(e, "outcome")),
            shown(e, "username"), shown(e, "client_ip"), shown(e, "reason"),
            shown(e, "actor"), e.get("count") instanceof Number n ? Math.max(1, n.longValue()) : 1));
      }
    }
    return groups;
  }

  private static final List<String> EVERY_TYPE =
      java.util.Arrays.stream(AuditEventType.values()).filter(AuditEventType::isKnown).map(AuditEventType::storedName)
          .toList();
  private static final List<String> EVERY_OUTCOME =
      java.util.Arrays.stream(AuditOutcome.values()).filter(AuditOutcome::isKnown).map(AuditOutcome::storedName)
          .toList();

  /**
   * The filter of a page, in disjoint parts each read newest first. When type or outcome is its
   * only selective part, the first part names both keys that lead the {@code type_outcome_time_count}
   * index, the absent one as {@code $in} of every value this version knows: MongoDB then scans one
   * index range per (type, outcome) pair, each already in (time, _id) order, merges them
   * (SORT_MERGE) and stops at the page, and so does the embedded store. Without the explicit
   * {@code $in}, an outcome alone has no index to lead and a rare failure is found by walking past
   * every success, and a type alone cannot follow the sort through the outcome key. The known
   * values alone would leave out an event whose stored type or outcome this version does not know
   * (one a newer version wrote into the same store during a rolling upgrade, or an edited
   * document), so the values stored beside them are probed for and named too ({@link
   * #addUnknownValues}); only past {@link #MAX_UNKNOWN_NAMES} of them, or for a value that is not
   * text, does a second part take the rest, with {@code $nin} ({@link #addNewestInGaps}). Other
   * filters have their own index, read whole in one part; adding the {@code $in} there would only
   * tempt a planner onto the coarser one.
   */
  private List<Bson> pageParts(AuditFilter filter) {
    boolean ownIndex = filter.username().isPresent() || filter.clientIp().isPresent() || filter.tokenId().isPresent()
        || filter.traceId().isPresent();
    Bson base = match(filter);
    if (ownIndex || filter.types().isEmpty() == filter.outcome().isEmpty()) {
      return List.of(base);
    }
    String absent = filter.types().isEmpty() ? "type" : "outcome";
    // where a value this version does not know can be: any type (for an outcome alone), or the
    // outcome of one of the types asked for
    Bson scope = filter.types().isEmpty() ? new Document() : in("type", storedNames(filter.types()));
    List<String> values = new ArrayList<>(filter.types().isEmpty() ? EVERY_TYPE : EVERY_OUTCOME);
    boolean allFound = addUnknownValues(scope, absent, values);
    return allFound ? List.of(and(base, in(absent, values)))
        : List.of(and(base, in(absent, values)), and(base, nin(absent, values)));
  }

  /**
   * Adds to {@code values} the values of {@code field} stored within {@code scope} that it does not
   * hold yet (a newer version's type or outcome, or an edit), each found by one probe of the
   * {@code type_outcome_time_count} index for the first entry outside them: a walk of the gaps
   * between the values held, which stops at its first entry (on MongoDB a seek per gap, on an
   * honest trail one probe that finds nothing). At most {@link #MAX_UNKNOWN_NAMES}: whether every
   * such value was found.
   */
  private boolean addUnknownValues(Bson scope, String field, List<String> values) {
    for (int found = 0; found <= MAX_UNKNOWN_NAMES; found++) {
      Document first = events.aggregate(List.of(Aggregates.match(and(scope, nin(field, values))),
              Aggregates.project(new Document("_id", 0).append(field, 1)), Aggregates.limit(1)))
          .hintString(MongoStorage.TYPE_OUTCOME_TIME_COUNT_INDEX).first();
      if (first == null) {
        return true;
      }
      // only text joins the $in: a value of another type (a missing field, a number, an array, a
      // regex, a document: edits) cannot be an index point everywhere, and a document could even
      // read as an operator; such values are left to the second part, whose $nin of text takes them
      if (found == MAX_UNKNOWN_NAMES || !(first.get(field) instanceof String value)) {
        return false;
      }
      values.add(value);
    }
    return false;
  }

  /**
   * Values of type or outcome this version does not know that a page names with the known ones:
   * within MongoDB's 200 index ranges merged for a sort (13 types by 2 + 8 outcomes is 130). A
   * store holding more (only an edited one) reads the rest as a second part, {@link #addNewestInGaps}.
   */
  static final int MAX_UNKNOWN_NAMES = 8;

  private static List<String> storedNames(java.util.Set<AuditEventType> types) {
    return types.stream().map(AuditEventType::storedName).toList();
  }

  /** The filter as a query: typed values only, never operators from the caller. */
  private static Bson match(AuditFilter filter) {
    List<Bson> clauses = new ArrayList<>();
    if (!filter.types().isEmpty()) {
      clauses.add(in("type", storedNames(filter.types())));
    }
    filter.username().ifPresent(u -> clauses.add(eq("username", u)));
    filter.outcome().ifPresent(o -> clauses.add(eq("outcome", o.storedName())));
    filter.start().ifPresent(s -> clauses.add(gte("time", Date.from(s))));
    filter.end().ifPresent(e -> clauses.add(lt("time", Date.from(e))));
    filter.clientIp().ifPresent(ip -> clauses.add(eq("client_ip", ip)));
    filter.tokenId().ifPresent(t -> clauses.add(eq("token_id", t)));
    filter.traceId().ifPresent(t -> clauses.add(eq("trace_id", t)));
    return clauses.isEmpty() ? new Document() : and(clauses);
  }

  @Override
  public List<AuditEvent> findByIds(List<String> ids) {
    List<AuditEvent> found = new ArrayList<>();
    if (!ids.isEmpty()) {
      events.find(in("_id", ids)).forEach(doc -> found.add(toEvent(doc)));
    }
    return found;
  }

  @Override
  public List<String> chains() {
    // a walk down the (chain, seq) index, one query per chain: no scan on any store
    List<String> chains = new ArrayList<>();
    // "greater than the empty string" rather than "exists": a range, which an index serves
    Document next = events.find(gt("chain", "")).sort(Sorts.ascending("chain", "seq"))
        .projection(new Document("chain", 1)).first();
    while (next != null && next.get("chain") instanceof String chain) {
      chains.add(chain);
      next = events.find(gt("chain", chain)).sort(Sorts.ascending("chain", "seq"))
          .projection(new Document("chain", 1)).first();
    }
    return chains;
  }

  @Override
  public List<ChainedEvent> chainEvents(String chain, long afterSeq, int limit) {
    return chainDocuments(events, chain, afterSeq, limit, MongoAuditStore::toChained);
  }

  @Override
  public List<AuditEvent> chainPage(String chain, long afterSeq, int limit) {
    return chainDocuments(storedEvents, chain, afterSeq, limit, StoredEventCodec.Stored::toEvent);
  }

  private <D, T> List<T> chainDocuments(MongoCollection<D> from, String chain, long afterSeq, int limit,
      java.util.function.Function<D, T> as) {
    List<T> page = new ArrayList<>(limit);
    // the whole page in one reply (the server's default first batch is 101 documents, then a getMore)
    from.find(and(eq("chain", chain), gt("seq", afterSeq))).sort(Sorts.ascending("seq")).limit(limit)
        .batchSize(limit).forEach(doc -> page.add(as.apply(doc)));
    return page;
  }

  @Override
  public Optional<ChainedEvent> head(String chain) {
    return Optional.ofNullable(events.find(eq("chain", chain)).sort(Sorts.descending("seq")).first())
        .map(MongoAuditStore::toChained);
  }

  @Override
  public long deleteUnchainedOlderThan(java.time.Instant cutoff, int batch) {
    return deleteIds(and(lt("time", Date.from(cutoff)), exists("chain", false)), batch);
  }

  private long deleteIds(Bson selection, int batch) {
    List<Object> ids = new ArrayList<>(batch);
    events.find(selection).projection(new Document("_id", 1)).limit(batch).forEach(doc -> ids.add(doc.get("_id")));
    if (ids.isEmpty()) {
      return 0;
    }
    // the selection goes along: on a sharded trail it names the chain, so only its shards are asked
    long deleted = events.deleteMany(and(selection, in("_id", ids))).getDeletedCount();
    barrier.afterWrite();
    return deleted;
  }

  @Override
  public long deleteChainThrough(String chain, long throughSeq, int batch) {
    return deleteIds(and(eq("chain", chain), lte("seq", throughSeq)), batch);
  }
}
