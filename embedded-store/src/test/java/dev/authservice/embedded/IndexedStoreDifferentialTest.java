package dev.authservice.embedded;

import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import com.mongodb.client.result.DeleteResult;
import com.mongodb.client.result.UpdateResult;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.bson.types.ObjectId;

/**
 * Differential test of the embedded store's backend: random documents (nested fields, arrays,
 * missing fields, and values of every type MongoDB orders against each other), random filters,
 * sorts, limits and projections of the shapes the server uses and more, asked of a collection
 * with the server's indexes in our backend and of the same collection in the library's plain
 * in-memory backend, which scans. The answers must be the same, before and after updates and
 * deletes, and after a restart of our store. An index may change how a query is answered,
 * never what it answers.
 *
 * <p>Sorts always end in {@code _id}, so that the order is total: MongoDB leaves the order of
 * ties open, and so may two correct backends. Queries without a sort take no limit, and their
 * answers are compared as sets. {@code -Djqwik.tries.default=2000} runs it longer.
 */
class IndexedStoreDifferentialTest {
  private static final long BASE = 1_780_000_000_000L;
  private static final List<String> FIELDS = List.of("_id", "time", "type", "outcome", "username", "client_ip",
      "token_id", "count", "chain", "seq", "n.x", "tags", "expires_at");
  private static final AtomicInteger COLLECTIONS = new AtomicInteger();
  /** The server's type_outcome_time_count: covered summaries read it alone. */
  private static final String COVERING = "type_outcome_time_count";

  private static Path dir;
  private static EmbeddedStore store;
  private static MongoClient indexedClient;
  private static MongoServer plainServer;
  private static MongoClient plainClient;

  @BeforeContainer
  static void start() throws IOException {
    dir = Files.createTempDirectory("indexed-store-properties");
    store = EmbeddedStore.start(dir);
    indexedClient = MongoClients.create(store.clientSettings());
    plainServer = new MongoServer(new MemoryBackend());
    plainServer.bind("127.0.0.1", 0);
    plainClient = MongoClients.create("mongodb://127.0.0.1:" + plainServer.getLocalAddress().getPort());
  }

  @AfterContainer
  static void stop() throws IOException {
    indexedClient.close();
    store.close();
    plainClient.close();
    plainServer.shutdownNow();
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** Our store again from its file, as after a stop: every index and document must come back as it was. */
  private static void restart() {
    indexedClient.close();
    int port = store.port();
    store.close();
    store = EmbeddedStore.start(dir, port, store.credential());
    indexedClient = MongoClients.create(store.clientSettings());
  }

  @Property
  void indexedAnswersEqualAScan(@ForAll("scenarios") Scenario scenario) {
    String name = "c" + COLLECTIONS.incrementAndGet();
    MongoDatabase indexedDb = indexedClient.getDatabase("t");
    MongoCollection<Document> plain = plainClient.getDatabase("t").getCollection(name);
    try {
      if (scenario.indexesFirst()) {
        same("create the indexes", () -> createIndexes(indexedDb.getCollection(name)), () -> createIndexes(plain));
      }
      for (Document doc : scenario.documents()) {
        same("insert " + doc.toJson(), () -> outcome(() -> indexedDb.getCollection(name).insertOne(doc)),
            () -> outcome(() -> plain.insertOne(doc)));
      }
      if (!scenario.indexesFirst()) {
        // built from the documents already there
        same("create the indexes", () -> createIndexes(indexedDb.getCollection(name)), () -> createIndexes(plain));
      }
      askAll(scenario, "after the inserts", indexedDb.getCollection(name), plain);
      for (Mutation mutation : scenario.mutations()) {
        same(mutation.toString(), () -> mutation.apply(indexedDb.getCollection(name)), () -> mutation.apply(plain));
      }
      askAll(scenario, "after the updates and deletes", indexedDb.getCollection(name), plain);
      if (scenario.restart()) {
        store.commitAndSync();
        restart();
        askAll(scenario, "after a restart", indexedClient.getDatabase("t").getCollection(name), plain);
      }
    } finally {
      indexedClient.getDatabase("t").getCollection(name).drop();
      plain.drop();
    }
  }

  /**
   * The indexes MongoStorage creates on audit_events, and a few of the other collections' shapes;
   * what each creation answered (a unique one fails on duplicates already there).
   */
  private static List<Object> createIndexes(MongoCollection<Document> c) {
    List<Object> outcomes = new ArrayList<>();
    outcomes.add(outcome(() -> c.createIndex(Indexes.descending("time", "_id"), new IndexOptions().name("time"))));
    for (String field : List.of("username", "client_ip", "token_id")) {
      outcomes.add(outcome(() -> c.createIndex(Indexes.compoundIndex(Indexes.ascending(field),
          Indexes.descending("time", "_id")), new IndexOptions().name(field + "_time"))));
    }
    outcomes.add(outcome(() -> c.createIndex(Indexes.compoundIndex(Indexes.ascending("type", "outcome"),
        Indexes.descending("time", "_id"), Indexes.ascending("count")), new IndexOptions().name(COVERING))));
    outcomes.add(outcome(() -> c.createIndex(Indexes.ascending("chain", "seq"), new IndexOptions().unique(true)
        .sparse(true).name("chain_seq_unique"))));
    outcomes.add(outcome(() -> c.createIndex(Indexes.ascending("expires_at"), new IndexOptions().name("expires_at"))));
    // arrays; ending in _id, like the server's, so that a sort by all its keys is total and may follow it
    outcomes.add(outcome(() -> c.createIndex(Indexes.ascending("tags", "count", "_id"),
        new IndexOptions().name("tags_count"))));
    outcomes.add(outcome(() -> c.createIndex(Indexes.ascending("n.x"), new IndexOptions().name("n_x"))));
    return outcomes;
  }

  private static void askAll(Scenario scenario, String phase, MongoCollection<Document> indexed,
      MongoCollection<Document> plain) {
    for (Query query : scenario.queries()) {
      same(phase + ": " + query, () -> query.ask(indexed), () -> query.ask(plain));
    }
  }

  private static void same(String what, java.util.function.Supplier<Object> indexed,
      java.util.function.Supplier<Object> plain) {
    Object expected = plain.get();
    Object actual = indexed.get();
    if (!Objects.equals(expected, actual)) {
      throw new AssertionError(what + "\n  the library's scan: " + expected + "\n  our indexed store: " + actual);
    }
  }

  /** What a write did: its counts, or the error code it was refused with. */
  private static Object outcome(Runnable write) {
    try {
      write.run();
      return "ok";
    } catch (MongoException e) {
      return "error " + e.getCode();
    }
  }

  // ---- what is asked

  record Query(Bson filter, List<Tuple.Tuple2<String, Boolean>> sort, int skip, int limit, Bson projection,
      Kind kind, int batchSize) {
    enum Kind { FIND, COUNT, AGGREGATE_PAGE, AGGREGATE_GROUP, AGGREGATE_SUMMARY, COVERED }

    Object ask(MongoCollection<Document> c) {
      Bson order = sort.isEmpty() ? null
          : Sorts.orderBy(sort.stream().map(s -> s.get2() ? Sorts.ascending(s.get1()) : Sorts.descending(s.get1()))
              .toList());
      return switch (kind) {
        case FIND -> {
          var find = c.find(filter);
          if (order != null) {
            find = find.sort(order).skip(skip).limit(limit);
          }
          if (projection != null) {
            find = find.projection(projection);
          }
          if (batchSize > 0) {
            // small batches: the answer comes through getMore from a cursor that reads as it goes
            find = find.batchSize(batchSize);
          }
          List<Document> found = find.into(new ArrayList<>());
          yield order == null ? asSet(found) : found;
        }
        case COUNT -> c.countDocuments(filter);
        case AGGREGATE_PAGE -> {
          List<Bson> stages = new ArrayList<>(List.of(Aggregates.match(filter)));
          if (order != null) {
            stages.add(Aggregates.sort(order));
            if (limit > 0) {
              stages.add(Aggregates.limit(limit));
            }
          }
          var aggregate = c.aggregate(stages);
          List<Document> found = (batchSize > 0 ? aggregate.batchSize(batchSize) : aggregate).into(new ArrayList<>());
          yield order == null ? asSet(found) : found;
        }
        // a group's key and maximum are the value of whichever document came first among equal ones
        // (2, 2L, 2.0), which an index changes: compared as numbers
        case AGGREGATE_GROUP -> numbersAsNumbers(c.aggregate(List.of(Aggregates.match(filter),
            Aggregates.group("$type", Accumulators.sum("n", 1), Accumulators.max("last", "$time")),
            Aggregates.sort(Sorts.ascending("_id")))).into(new ArrayList<>()));
        // the server's summary: hourly buckets (UTC arithmetic on the time) by two fields, events
        // counted by their count (1 when missing); keys of every kind, some hashed, some not, and
        // the groups in the order the library gives them
        case AGGREGATE_SUMMARY -> {
          Document id = new Document("b", new Document("$subtract", List.of("$time", new Document("$mod",
              List.of(new Document("$subtract", List.of("$time", new java.util.Date(0))), 3_600_000L)))))
              .append("k0", "$type").append("k1", "$username");
          // and by outcome and count: numbers of different types (2, 2L, 2.0) that must fall in one group
          Document byCount = new Document("k0", "$outcome").append("k1", "$count");
          yield List.of(group(c, id, batchSize), group(c, byCount, batchSize));
        }
        // the server's covered summary: $match, $project of the covering index's fields (with _id
        // or not), hinted; the projected documents themselves, and the summary over them. Fields
        // of the answer in the order the documents hold them (an index entry knows no order)
        case COVERED -> {
          Document fields = new Document("type", 1).append("outcome", 1).append("time", 1).append("count", 1);
          Document project = limit % 2 == 0 ? new Document("_id", 0).append("type", 1).append("outcome", 1)
              .append("time", 1).append("count", 1) : fields;
          Document id = new Document("b", new Document("$subtract", List.of("$time", new Document("$mod",
              List.of(new Document("$subtract", List.of("$time", new java.util.Date(0))), 3_600_000L)))))
              .append("k0", "$type").append("k1", "$outcome");
          try {
            var projected = c.aggregate(List.of(Aggregates.match(filter), new Document("$project", project)))
                .hintString(COVERING);
            List<Document> found = (batchSize > 0 ? projected.batchSize(batchSize) : projected).into(new ArrayList<>());
            var grouped = c.aggregate(List.of(Aggregates.match(filter), new Document("$project", project),
                // what an order of the input cannot change: the number of documents and the greatest count
                // (equal ones of different types compared as numbers, as for AGGREGATE_GROUP)
                new Document("$group", new Document("_id", id).append("n", new Document("$sum", 1))
                    .append("m", new Document("$max", "$count"))), Aggregates.sort(Sorts.ascending("_id"))))
                .hintString(COVERING);
            yield List.of(found.stream().map(Query::fieldsSorted).sorted().toList(),
                numbersAsNumbers(grouped.into(new ArrayList<>())));
          } catch (com.mongodb.MongoCommandException e) {
            yield "error " + e.getErrorCode();
          }
        }
      };
    }

    /** The document with its fields in name order, each value with its type: a covered read gives back what is stored. */
    private static String fieldsSorted(Document d) {
      return new java.util.TreeMap<>(d).entrySet().stream()
          .map(e -> e.getKey() + "=" + (e.getValue() == null ? "null" : e.getValue().getClass().getSimpleName() + ":"
              + e.getValue()))
          .toList().toString();
    }

    private Object group(MongoCollection<Document> c, Document id, int batchSize) {
      try {
        var aggregate = c.aggregate(List.of(Aggregates.match(filter), new Document("$group", new Document("_id", id)
            .append("n", new Document("$sum", new Document("$ifNull", List.of("$count", 1L)))))));
        List<Document> groups = (batchSize > 0 ? aggregate.batchSize(batchSize) : aggregate).into(new ArrayList<>());
        return numbersAsNumbers(groups.stream().map(Query::arrayKeysAsTheirLeast).toList());
      } catch (com.mongodb.MongoCommandException e) {
        return "error " + e.getErrorCode();
      }
    }

    /**
     * A group whose key holds an array: the library's comparison, which both stores group by, calls
     * an array equal to its least element (["u0"], ["u0", "u1"] and "u0" are one group), and the
     * group's key is whichever of those came first, which an index changes: compared as that least
     * element. (MongoDB itself would keep them apart; the server's documents hold no arrays.)
     */
    private static Document arrayKeysAsTheirLeast(Document group) {
      if (!(group.get("_id") instanceof Document key)) {
        return group;
      }
      Document canonical = new Document();
      key.forEach((field, value) -> canonical.append(field, value instanceof List<?> list && !list.isEmpty()
          && list.stream().allMatch(String.class::isInstance)
          ? list.stream().map(String.class::cast).min(String::compareTo).orElseThrow() : value));
      Document out = new Document(group);
      out.put("_id", canonical);
      return out;
    }

    private static Object numbersAsNumbers(Object value) {
      if (value instanceof Number n) {
        return new java.math.BigDecimal(n.toString()).stripTrailingZeros();
      }
      if (value instanceof Document d) {
        Document out = new Document();
        d.forEach((k, v) -> out.append(k, numbersAsNumbers(v)));
        return out;
      }
      if (value instanceof List<?> list) {
        return list.stream().map(Query::numbersAsNumbers).toList();
      }
      return value;
    }

    private static List<String> asSet(List<Document> found) {
      return found.stream().map(Document::toJson).sorted().toList();
    }

    @Override
    public String toString() {
      return kind + " " + filter.toBsonDocument().toJson() + (sort.isEmpty() ? "" : " sort " + sort)
          + (skip > 0 ? " skip " + skip : "") + (limit > 0 ? " limit " + limit : "")
          + (projection == null ? "" : " projection " + projection.toBsonDocument().toJson());
    }
  }

  record Mutation(String description, Function<MongoCollection<Document>, Object> write) {
    Object apply(MongoCollection<Document> c) {
      try {
        Object result = write.apply(c);
        if (result instanceof UpdateResult u) {
          return "matched " + u.getMatchedCount() + ", modified " + u.getModifiedCount();
        }
        if (result instanceof DeleteResult d) {
          return "deleted " + d.getDeletedCount();
        }
        return result;
      } catch (MongoException e) {
        return "error " + e.getCode();
      }
    }

    @Override
    public String toString() {
      return description;
    }
  }

  record Scenario(List<Document> documents, boolean indexesFirst, List<Query> queries, List<Mutation> mutations,
      boolean restart) {
    @Override
    public String toString() {
      return "documents:\n  " + String.join("\n  ", documents.stream().map(Document::toJson).toList())
          + "\nindexes first: " + indexesFirst + "\nqueries:\n  "
          + String.join("\n  ", queries.stream().map(Query::toString).toList())
          + "\nmutations:\n  " + String.join("\n  ", mutations.stream().map(Mutation::toString).toList())
          + "\nrestart: " + restart;
    }
  }

  // ---- generators

  @Provide
  Arbitrary<Scenario> scenarios() {
    Arbitrary<List<Document>> documents = document().list().ofMaxSize(40).map(IndexedStoreDifferentialTest::withIds);
    return Combinators.combine(documents, Arbitraries.of(true, false), query().list().ofMinSize(1).ofMaxSize(6),
        mutation().list().ofMaxSize(4), Arbitraries.integers().between(0, 3).map(i -> i == 0))
        .as(Scenario::new);
  }

  /** Ids of mixed types, each unique: a string, a number or an ObjectId. */
  private static List<Document> withIds(List<Document> docs) {
    List<Document> out = new ArrayList<>();
    for (int i = 0; i < docs.size(); i++) {
      Document doc = new Document("_id", id(i, docs.get(i).getInteger("_kind")));
      docs.get(i).forEach((k, v) -> {
        if (!k.equals("_kind")) {
          doc.append(k, v);
        }
      });
      out.add(doc);
    }
    return out;
  }

  private static Object id(int i, int kind) {
    return switch (kind) {
      case 0 -> i;
      case 1 -> new ObjectId(String.format("%024x", i));
      default -> String.format("d%03d", i);
    };
  }

  private static final Object MISSING = new Object();

  private static Arbitrary<Document> document() {
    List<String> names = List.of("time", "type", "outcome", "username", "client_ip", "token_id", "count", "chain",
        "seq", "n", "tags", "expires_at");
    List<Arbitrary<Object>> values = List.of(
        often(times()), often(pool("T0", "T1", "T2")), often(outcomes()), often(usernames()),
        often(pool("10.0.0.1", "10.0.0.2", "::1")), often(pool("j1", "j2")), often(number()),
        notNull(often(pool("a", "b"))), notNull(often(number())), nested(), tags(), often(date()));
    return Combinators.combine(Arbitraries.integers().between(0, 2), Combinators.combine(values).as(list -> list))
        .as((kind, list) -> {
          Document doc = new Document("_kind", kind);
          for (int i = 0; i < names.size(); i++) {
            if (list.get(i) != MISSING) {
              doc.append(names.get(i), list.get(i));
            }
          }
          return doc;
        })
        // one array per index at most: MongoDB refuses parallel arrays, the library's plain backend does not
        .filter(doc -> !(doc.get("time") instanceof List<?>
            && (doc.get("username") instanceof List<?> || doc.get("outcome") instanceof List<?>)));
  }

  /** Sometimes an array: the field right after a pinned prefix, ranged and sorted on, holding arrays. */
  private static Arbitrary<Object> times() {
    return Arbitraries.frequencyOf(Tuple.of(6, date()),
        Tuple.of(1, date().list().ofMinSize(2).ofMaxSize(2).map(l -> (Object) l)));
  }

  /** Sometimes an array: a pinned field of a compound index holding arrays, merged over. */
  private static Arbitrary<Object> outcomes() {
    return Arbitraries.frequencyOf(Tuple.of(5, pool("S", "F")),
        Tuple.of(1, pool("S", "F").list().ofMinSize(2).ofMaxSize(2).map(l -> (Object) l)));
  }

  /** Mostly a value of the field's own kind; sometimes missing, or any value of any type. */
  private static Arbitrary<Object> often(Arbitrary<Object> typical) {
    return Arbitraries.frequencyOf(Tuple.of(6, typical), Tuple.of(2, Arbitraries.just(MISSING)),
        Tuple.of(2, scalar()));
  }

  /**
   * For chain and seq, the keys of the sparse unique index: the library's plain backend fails to
   * update a document without them while another holds null there (our store once did too), and
   * stops a multi-document update at that document, in an order that differs from ours.
   */
  private static Arbitrary<Object> notNull(Arbitrary<Object> values) {
    return values.filter(Objects::nonNull);
  }

  private static Arbitrary<Object> usernames() {
    return Arbitraries.frequencyOf(Tuple.of(5, pool("u0", "u1", "u2", "u3")),
        Tuple.of(1, pool("u0", "u1", "u2").list().ofMinSize(1).ofMaxSize(3).map(l -> (Object) l)));
  }

  private static Arbitrary<Object> nested() {
    return Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(MISSING)),
        Tuple.of(4, scalar().map(x -> (Object) new Document("x", x))),
        // the only empty arrays: MongoDB indexes them too, and a document holding one must stay findable
        Tuple.of(1, scalar().list().ofMaxSize(2).map(l -> (Object) new Document("x", l))),
        Tuple.of(1, Arbitraries.just(new Document("x", List.of()))),
        Tuple.of(1, scalar()));
  }

  private static Arbitrary<Object> tags() {
    return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(MISSING)),
        Tuple.of(4, tag().list().ofMinSize(1).ofMaxSize(3).map(l -> (Object) l)),
        Tuple.of(2, scalar()));
  }

  private static Arbitrary<Object> tag() {
    return Arbitraries.frequencyOf(Tuple.of(1, pool("a", "b", "c")), Tuple.of(2, number()));
  }

  private static Arbitrary<Object> pool(Object... values) {
    return Arbitraries.of(values);
  }

  private static Arbitrary<Object> date() {
    return Arbitraries.integers().between(0, 6).map(k -> (Object) new Date(BASE + k * 1000L));
  }

  /** Equal values of different numeric types, which MongoDB compares as numbers. */
  private static Arbitrary<Object> number() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.integers().between(-1, 3).map(i -> (Object) i)),
        Tuple.of(2, Arbitraries.longs().between(-1, 3).map(l -> (Object) l)),
        Tuple.of(2, Arbitraries.of(-0.5, 0.5, 1.0, 2.0, 2.5).map(d -> (Object) d)),
        Tuple.of(1, Arbitraries.of(1L << 40, (double) (1L << 40), Long.MAX_VALUE, Integer.MIN_VALUE, -0.0,
            (1L << 53) + 1).map(x -> (Object) x)));
  }

  /** A value of any type MongoDB orders: null, numbers, strings, ObjectIds, booleans, dates. */
  private static Arbitrary<Object> scalar() {
    return Arbitraries.oneOf(Arbitraries.just(null), number(), pool("", "a", "b", "T1", "u1"),
        Arbitraries.integers().between(0, 2).map(i -> (Object) new ObjectId(String.format("%024x", i))),
        Arbitraries.of(true, false).map(b -> (Object) b), date());
  }

  /** A value of the kind the field usually holds. */
  private static Arbitrary<Object> typical(String field) {
    return switch (field) {
      case "_id" -> Combinators.combine(Arbitraries.integers().between(0, 40), Arbitraries.integers().between(0, 2))
          .as(IndexedStoreDifferentialTest::id);
      case "time", "expires_at" -> date();
      case "type" -> pool("T0", "T1", "T2");
      case "outcome" -> pool("S", "F");
      case "username" -> pool("u0", "u1", "u2", "u3");
      case "client_ip" -> pool("10.0.0.1", "10.0.0.2", "::1");
      case "token_id" -> pool("j1", "j2");
      case "count", "seq" -> number();
      case "chain" -> pool("a", "b");
      case "tags" -> tag();
      default -> scalar();
    };
  }

  /** A value to compare a field with: mostly one of the kind it holds, so that comparisons meet equal values. */
  private static Arbitrary<Object> operand(String field) {
    return Arbitraries.frequencyOf(Tuple.of(6, typical(field)), Tuple.of(2, scalar()),
        Tuple.of(1, typical(field).list().ofMinSize(1).ofMaxSize(2).map(l -> (Object) l)));
  }

  private static Arbitrary<String> field() {
    return Arbitraries.of(FIELDS);
  }

  /**
   * Fields to sort by: not "n.x", the one field that holds empty arrays. The library's comparator
   * says of two empty arrays that each is less than the other, so its order of such documents
   * depends on the order it happened to meet them in, which an index changes.
   */
  private static Arbitrary<String> sortField() {
    return field().filter(f -> !f.equals("n.x"));
  }

  private static Arbitrary<Bson> filter() {
    return filter(2);
  }

  private static Arbitrary<Bson> filter(int depth) {
    List<Tuple.Tuple2<Integer, Arbitrary<Bson>>> shapes = new ArrayList<>(List.of(
        Tuple.of(12, field().flatMap(IndexedStoreDifferentialTest::condition)),
        Tuple.of(1, Arbitraries.just(new Document()))));
    if (depth > 0) {
      shapes.add(Tuple.of(3, filter(depth - 1).list().ofMinSize(1).ofMaxSize(3).map(Filters::and)));
      shapes.add(Tuple.of(2, filter(depth - 1).list().ofMinSize(1).ofMaxSize(3).map(Filters::or)));
      // the server's keyset page: a bound on (time, _id) beside the filter
      shapes.add(Tuple.of(2, Combinators.combine(filter(depth - 1), date(), typical("_id")).as((f, t, id) ->
          Filters.and(f, Filters.lte("time", t), Filters.or(Filters.lt("time", t),
              Filters.and(Filters.eq("time", t), Filters.lt("_id", id)))))));
    }
    @SuppressWarnings("unchecked")
    Arbitrary<Bson> chosen = Arbitraries.frequencyOf(shapes.toArray(new Tuple.Tuple2[0]));
    return chosen;
  }

  /** One condition on one field: equality, $in, a one- or two-sided range, $exists, $ne. */
  private static Arbitrary<Bson> condition(String f) {
    return Arbitraries.frequencyOf(
        Tuple.of(4, operand(f).map(v -> Filters.eq(f, v))),
        Tuple.of(2, operand(f).list().ofMinSize(1).ofMaxSize(4).map(values -> Filters.in(f, values))),
        Tuple.of(4, Combinators.combine(Arbitraries.of("$gt", "$gte", "$lt", "$lte"), operand(f))
            .as((op, v) -> (Bson) new Document(f, new Document(op, v)))),
        Tuple.of(3, Combinators.combine(Arbitraries.of("$gt", "$gte"), operand(f), Arbitraries.of("$lt", "$lte"),
            operand(f)).as((low, a, high, b) -> (Bson) new Document(f, new Document(low, a).append(high, b)))),
        Tuple.of(1, Arbitraries.of(true, false).map(b -> Filters.exists(f, b))),
        Tuple.of(1, operand(f).map(v -> Filters.ne(f, v))));
  }

  private static Arbitrary<List<Tuple.Tuple2<String, Boolean>>> sort() {
    Arbitrary<Tuple.Tuple2<String, Boolean>> key = Combinators.combine(sortField(), Arbitraries.of(true, false))
        .as(Tuple::of);
    Arbitrary<List<Tuple.Tuple2<String, Boolean>>> keys = Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just(List.of())),
        // the server's order, and its order within one user, type, address or token
        Tuple.of(3, Arbitraries.of(List.of(Tuple.of("time", false), Tuple.of("_id", false)),
            List.of(Tuple.of("time", true), Tuple.of("_id", true)),
            List.of(Tuple.of("username", true), Tuple.of("time", false), Tuple.of("_id", false)))),
        Tuple.of(4, key.list().ofMinSize(1).ofMaxSize(2).uniqueElements(Tuple.Tuple2::get1)));
    return Combinators.combine(keys, Arbitraries.of(true, false)).as((list, idAscending) -> {
      if (list.isEmpty() || list.stream().anyMatch(k -> k.get1().equals("_id"))) {
        return list;
      }
      List<Tuple.Tuple2<String, Boolean>> total = new ArrayList<>(list);
      total.add(Tuple.of("_id", idAscending));
      return total;
    });
  }

  private static Arbitrary<Bson> projection() {
    return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(null)),
        Tuple.of(1, field().list().ofMinSize(1).ofMaxSize(3).uniqueElements().map(Projections::include)),
        Tuple.of(1, field().filter(f -> !f.equals("_id")).list().ofMinSize(1).ofMaxSize(2).uniqueElements()
            .map(Projections::exclude)));
  }

  private static Arbitrary<Query> query() {
    Arbitrary<Tuple.Tuple2<Bson, List<Tuple.Tuple2<String, Boolean>>>> filterAndSort = Arbitraries.frequencyOf(
        Tuple.of(1, Combinators.combine(filter(), sort()).as(Tuple::of)),
        Tuple.of(2, alongAnIndex()),
        Tuple.of(1, mergedWalks()),
        Tuple.of(1, coveredShapes()),
        Tuple.of(1, wholeIndexWalk()));
    return Combinators.combine(filterAndSort, Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(0)),
            Tuple.of(1, Arbitraries.integers().between(1, 5))),
        Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)), Tuple.of(3, Arbitraries.integers().between(1, 20))),
        projection(), Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(Query.Kind.FIND)),
            Tuple.of(1, Arbitraries.just(Query.Kind.COUNT)), Tuple.of(2, Arbitraries.just(Query.Kind.AGGREGATE_PAGE)),
            Tuple.of(1, Arbitraries.just(Query.Kind.AGGREGATE_GROUP)),
            Tuple.of(1, Arbitraries.just(Query.Kind.AGGREGATE_SUMMARY)),
            Tuple.of(2, Arbitraries.just(Query.Kind.COVERED))),
        Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)), Tuple.of(2, Arbitraries.integers().between(1, 3))))
        .as((fs, skip, limit, projection, kind, batchSize) -> new Query(fs.get1(), fs.get2(), skip, limit, projection,
            kind, batchSize));
  }

  /** The keys of the indexes {@link #createIndexes} makes, as the fields a walk along each follows. */
  private static final List<List<String>> INDEX_KEYS = List.of(List.of("time", "_id"),
      List.of("username", "time", "_id"), List.of("type", "outcome", "time", "_id", "count"), List.of("client_ip", "time", "_id"),
      List.of("token_id", "time", "_id"), List.of("chain", "seq"), List.of("expires_at"), List.of("tags", "count", "_id"),
      List.of("n.x"), List.of("_id"));

  /**
   * What the planner serves from an index: conditions on a leading part of its keys (each pinned
   * or bounded, the last one maybe by a range), sorted by its keys in one direction or the other.
   */
  private static Arbitrary<Tuple.Tuple2<Bson, List<Tuple.Tuple2<String, Boolean>>>> alongAnIndex() {
    return Arbitraries.of(INDEX_KEYS).flatMap(keys -> Combinators.combine(
        Arbitraries.integers().between(1, keys.size()).flatMap(n -> Combinators.combine(
            keys.subList(0, n).stream().map(IndexedStoreDifferentialTest::condition).toList()).as(Filters::and)),
        Arbitraries.integers().between(0, keys.size()), Arbitraries.of(true, false))
        .as((filter, sortFrom, ascending) -> {
          List<Tuple.Tuple2<String, Boolean>> sort = new ArrayList<>();
          keys.subList(sortFrom, keys.size()).stream().filter(k -> !k.equals("n.x"))
              .forEach(k -> sort.add(Tuple.of(k, ascending)));
          if (!sort.isEmpty() && sort.stream().noneMatch(k -> k.get1().equals("_id"))) {
            sort.add(Tuple.of("_id", ascending));
          }
          return Tuple.of(filter, sort);
        }));
  }

  /**
   * The server's QueryAudit shapes on type_outcome_time: {@code $in} (or equality) on type and
   * outcome, maybe a window and the keyset page bound on time, maybe more conditions, sorted by
   * (time, _id) one way or the other: one walk per (type, outcome) pair, merged in sort order.
   */
  private static Arbitrary<Tuple.Tuple2<Bson, List<Tuple.Tuple2<String, Boolean>>>> mergedWalks() {
    Arbitrary<Bson> types = Arbitraries.frequencyOf(
        Tuple.of(3, operand("type").list().ofMinSize(1).ofMaxSize(4).map(values -> Filters.in("type", values))),
        Tuple.of(1, operand("type").map(v -> Filters.eq("type", v))));
    Arbitrary<Bson> outcomes = Arbitraries.frequencyOf(
        Tuple.of(3, operand("outcome").list().ofMinSize(1).ofMaxSize(3).map(values -> Filters.in("outcome", values))),
        Tuple.of(1, operand("outcome").map(v -> Filters.eq("outcome", v))));
    Arbitrary<Bson> window = Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.just(new Document())),
        Tuple.of(1, condition("time")),
        Tuple.of(1, Combinators.combine(date(), typical("_id")).as((t, id) -> Filters.and(Filters.lte("time", t),
            Filters.or(Filters.lt("time", t), Filters.and(Filters.eq("time", t), Filters.lt("_id", id)))))));
    Arbitrary<Bson> more = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(new Document())), Tuple.of(1, filter(0)));
    return Combinators.combine(types, outcomes, window, more, Arbitraries.of(true, false))
        .as((t, o, w, m, ascending) -> Tuple.of(Filters.and(t, o, w, m),
            List.of(Tuple.of("time", ascending), Tuple.of("_id", ascending))));
  }

  /**
   * The server's summary shapes on type_outcome_time_count: type and outcome each pinned by
   * {@code $in}, equal to one value, left out, or everything but some values ({@code $nin}, the
   * gaps between them walked); maybe a window; maybe more conditions, on the index's fields (still
   * covered) or on any field (then the documents are read).
   */
  private static Arbitrary<Tuple.Tuple2<Bson, List<Tuple.Tuple2<String, Boolean>>>> coveredShapes() {
    Arbitrary<Bson> types = Arbitraries.frequencyOf(
        Tuple.of(3, operand("type").list().ofMinSize(1).ofMaxSize(4).map(values -> Filters.in("type", values))),
        Tuple.of(1, operand("type").map(v -> Filters.eq("type", v))),
        Tuple.of(2, typical("type").list().ofMinSize(1).ofMaxSize(3).map(values -> Filters.nin("type", values))),
        Tuple.of(1, Arbitraries.just(new Document())));
    Arbitrary<Bson> outcomes = Arbitraries.frequencyOf(
        Tuple.of(3, operand("outcome").list().ofMinSize(1).ofMaxSize(3).map(values -> Filters.in("outcome", values))),
        Tuple.of(1, operand("outcome").map(v -> Filters.eq("outcome", v))),
        Tuple.of(2, typical("outcome").list().ofMinSize(1).ofMaxSize(2).map(values -> Filters.nin("outcome", values))),
        Tuple.of(1, Arbitraries.just(new Document())));
    Arbitrary<Bson> window = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(new Document())),
        Tuple.of(2, condition("time")));
    Arbitrary<Bson> more = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(new Document())),
        Tuple.of(2, Arbitraries.of("count", "_id", "type", "outcome").flatMap(IndexedStoreDifferentialTest::condition)),
        Tuple.of(1, filter(1)));
    return Combinators.combine(types, outcomes, window, more).as((t, o, w, m) -> Tuple.of(Filters.and(t, o, w, m),
        List.of()));
  }

  /**
   * Nothing an index narrows (no filter, or conditions the planner leaves to the matcher), sorted
   * the way one of the indexes is, or not quite: a walk of the whole index, or a scan.
   */
  private static Arbitrary<Tuple.Tuple2<Bson, List<Tuple.Tuple2<String, Boolean>>>> wholeIndexWalk() {
    Arbitrary<Bson> unplanned = Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(new Document())),
        Tuple.of(1, filter(0).list().ofMinSize(1).ofMaxSize(2).map(Filters::or)),
        Tuple.of(1, field().flatMap(f -> operand(f).map(v -> Filters.ne(f, v)))),
        Tuple.of(1, field().map(f -> Filters.exists(f, true))));
    Arbitrary<List<Tuple.Tuple2<String, Boolean>>> sort = Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.of(true, false).map(asc -> List.of(Tuple.of("time", asc), Tuple.of("_id", asc)))),
        Tuple.of(1, Arbitraries.of(INDEX_KEYS).filter(keys -> !keys.contains("n.x")).flatMap(keys ->
            Arbitraries.of(true, false).map(asc -> {
              List<Tuple.Tuple2<String, Boolean>> along = new ArrayList<>();
              keys.forEach(k -> along.add(Tuple.of(k, asc)));
              if (!keys.contains("_id")) {
                along.add(Tuple.of("_id", asc));
              }
              return along;
            }))),
        Tuple.of(1, sort()));
    return Combinators.combine(unplanned, sort).as(Tuple::of);
  }

  /** Writes applied alike to both: none changes a unique key of several documents at once, whose order would matter. */
  private static Arbitrary<Mutation> mutation() {
    // not "n.x": setting it fails on a document whose n is no document, and updateMany stops at the first failure
    Arbitrary<String> settable = Arbitraries.of("time", "type", "username", "client_ip", "count", "tags", "expires_at");
    return Arbitraries.oneOf(
        // an array only for tags: arrays in both keys of the tags_count index are refused by MongoDB (and
        // by our store), but not by the library's plain backend, which builds no such index
        Combinators.combine(filter(1), settable.flatMap(field -> (field.equals("tags") ? operand(field)
                : Arbitraries.oneOf(typical(field), scalar())).map(v -> Tuple.of(field, v))))
            .as((f, set) -> new Mutation(
                "updateMany " + f.toBsonDocument().toJson() + " set " + set.get1() + " = " + set.get2(),
                c -> c.updateMany(f, Updates.set(set.get1(), set.get2())))),
        Combinators.combine(filter(1), settable).as((f, field) -> new Mutation(
            "updateMany " + f.toBsonDocument().toJson() + " unset " + field, c -> c.updateMany(f, Updates.unset(field)))),
        filter(1).map(f -> new Mutation("deleteMany " + f.toBsonDocument().toJson(), c -> c.deleteMany(f))),
        Combinators.combine(Arbitraries.integers().between(0, 40), Arbitraries.integers().between(0, 2))
            .as((i, kind) -> new Mutation("deleteOne _id " + id(i, kind), c -> c.deleteOne(Filters.eq("_id", id(i,
                kind))))),
        Combinators.combine(Arbitraries.integers().between(0, 40), Arbitraries.integers().between(0, 2), document())
            .as((i, kind, doc) -> {
              Document replacement = new Document(doc);
              replacement.remove("_kind");
              return new Mutation("replaceOne _id " + id(i, kind) + " by " + replacement.toJson(),
                  c -> c.replaceOne(Filters.eq("_id", id(i, kind)), replacement));
            }));
  }
}
