package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.authservice.embedded.GeneratedFields.MISSING;
import static dev.authservice.embedded.GeneratedFields.put;

import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.aggregation.stage.MatchStage;
import de.bwaldvogel.mongo.backend.aggregation.stage.ProjectStage;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

/**
 * A covered aggregation's {@code $match} and {@code $project} run as one step ({@link CoveredHead})
 * with a filter compiled once ({@link CoveredMatch}): each gives what the library's own stages give.
 * The compiled filter is held to the library's matcher on documents of plain values (what index
 * entries hold: strings, dates, booleans, ObjectIds, numbers of every type, -0, NaN, a long no
 * double holds) under filters of every operator it compiles, nested in {@code $and}/{@code $or}/
 * {@code $nor}; the projection to the library's {@code $project} on any document, field order included.
 */
class CoveredHeadTest {
  private static final ObjectId ID_1 = new ObjectId();
  private static final ObjectId ID_2 = new ObjectId();
  private static final List<String> FIELDS = List.of("a", "b", "c", "_id");
  /** An index on a, b and c whose entries may stand for documents: its entries hold a, b, c, then _id. */
  private static final OrderedIndex INDEX = new OrderedIndex() {
    @Override
    public String getName() {
      return "a_b_c";
    }

    @Override
    public List<IndexKey> getKeys() {
      return List.of(new IndexKey("a", true), new IndexKey("b", true), new IndexKey("c", true));
    }

    @Override
    public boolean coverable() {
      return true;
    }

    @Override
    public java.util.Set<String> multikeyPaths() {
      return java.util.Set.of();
    }

    @Override
    public boolean sparse() {
      return false;
    }

    @Override
    public Iterator<Map.Entry<KeyValue, Object>> scan(KeyValue lower, KeyValue upper, boolean reverse) {
      throw new UnsupportedOperationException("not walked here");
    }
  };

  @Property(tries = 3000)
  void theCompiledFilterAnswersAsTheLibrarysMatcher(@ForAll("filters") Document filter,
      @ForAll("plainDocuments") Document document) {
    Optional<Predicate<KeyValue>> compiled = CoveredMatch.compile(filter, FIELDS::indexOf);
    if (compiled.isPresent()) {
      assertEquals(library(filter, document), Optional.of(compiled.get().test(entry(document))),
          () -> filter + " on " + document);
    }
  }

  @Property(tries = 2000)
  void theHeadIsTheLibrarysMatchThenProject(@ForAll("filters") Document filter, @ForAll("projections") Document projection,
      @ForAll("documents") Document document) {
    Optional<CoveredHead> head = CoveredHead.of(List.of(new Document("$match", filter), new Document("$project", projection)));
    if (head.isEmpty()) {
      return;
    }
    List<Document> expected;
    try {
      expected = new ProjectStage(projection).apply(new MatchStage(filter).apply(Stream.of(document))).toList();
    } catch (RuntimeException e) {
      return;   // an error: the head is never asked (the library's stages are built first and fail alike)
    }
    Document projected = head.get().fromCollection(document);
    assertEquals(ordered(expected), ordered(projected == null ? List.of() : List.of(projected)),
        () -> filter + " " + projection + " on " + document);
    if (document.keySet().containsAll(FIELDS)) {
      // as an entry of an index on a, b, c (and _id after them): the compiled filter and the projection from places
      CoveredHead.Entries entries = head.get().over(CoveredRead.over(INDEX, head.get().fieldsRead()).orElseThrow());
      KeyValue entry = entry(document);
      if (entries.standsForDocument(entry)) {
        Document fromIndex = entries.fromIndex(entry);
        assertEquals(ordered(expected), ordered(fromIndex == null ? List.of() : List.of(fromIndex)),
            () -> filter + " " + projection + " on entry " + entry);
      }
    }
  }

  /** The summary's filters compile: else the summary would run the library's matcher and this class would prove nothing. */
  @Test
  void theSummarysFiltersCompile() {
    Instant from = Instant.parse("2026-12-01T00:00:00Z");
    Document time = new Document("time", new Document("$gte", from)).append("type", new Document("$in", List.of("A", "B")));
    Document unknown = new Document("$and", List.of(new Document("time", new Document("$gte", from)),
        new Document("time", new Document("$lt", from.plusSeconds(86_400))),
        new Document("outcome", new Document("$nin", List.of("S", "F"))), new Document("type", new Document("$in", List.of("A")))));
    List<String> index = List.of("type", "outcome", "time", "_id", "count", "_id");
    assertTrue(CoveredMatch.compile(time, index::indexOf).isPresent());
    assertTrue(CoveredMatch.compile(unknown, index::indexOf).isPresent());
    assertTrue(CoveredMatch.compile(new Document("type", new Document("$regex", "A")), index::indexOf).isEmpty());
    assertTrue(CoveredMatch.compile(new Document("username", "A"), index::indexOf).isEmpty());
  }

  /** The document as an index entry: its values in the order of {@link #FIELDS}, _id last as an index holds it. */
  private static KeyValue entry(Document document) {
    return new KeyValue(FIELDS.stream().map(document::get).toList());
  }

  private static Optional<Boolean> library(Document filter, Document document) {
    try {
      return Optional.of(new DefaultQueryMatcher().matches(document, filter));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Documents with their field order and value types visible. */
  private static List<String> ordered(List<Document> documents) {
    List<String> out = new ArrayList<>();
    for (Document d : documents) {
      StringBuilder s = new StringBuilder();
      d.forEach((k, v) -> s.append(k).append('=').append(v == null ? "null" : v.getClass().getSimpleName() + ":" + v)
          .append(';'));
      out.add(s.toString());
    }
    return out;
  }

  private static Arbitrary<Object> plainValue() {
    return Arbitraries.of((Object) "x", "y", "", "$x", Instant.EPOCH, Instant.parse("2026-12-02T00:00:00Z"), true, false,
        ID_1, ID_2, 0, 1, -1, 0L, 1L, (1L << 53) + 1, Long.MAX_VALUE, 0.0, -0.0, 1.0, 1.5, Double.NaN);
  }

  @Provide
  Arbitrary<Document> plainDocuments() {
    return plainValue().list().ofSize(FIELDS.size()).map(values -> {
      Document d = new Document();
      for (int i = 0; i < FIELDS.size(); i++) {
        d.put(FIELDS.get(i), values.get(i));
      }
      return d;
    });
  }

  @Provide
  Arbitrary<Document> documents() {
    Arbitrary<Object> value = Arbitraries.frequencyOf(
        Tuple.of(6, plainValue()),
        Tuple.of(1, Arbitraries.of((Object) List.of("x", 1), List.of(), new Document("x", 1))),
        Tuple.of(1, Arbitraries.just(null)), Tuple.of(1, Arbitraries.just(MISSING)));
    return value.list().ofSize(FIELDS.size()).map(values -> {
      Document d = new Document();
      for (int i = 0; i < FIELDS.size(); i++) {
        put(d, FIELDS.get(i), values.get(i));
      }
      return d;
    });
  }

  @Provide
  Arbitrary<Document> projections() {
    Arbitrary<Object> include = Arbitraries.of((Object) 1, true, 1.0, 1L);
    return Combinators.combine(Arbitraries.of("a", "b", "c").list().uniqueElements().ofMinSize(1).ofMaxSize(3),
        include.list().ofSize(3), Arbitraries.of("absent", "0", "false", "1", "last0"))
        .as((fields, values, id) -> {
          Document p = new Document();
          if (id.equals("0") || id.equals("false") || id.equals("1")) {
            p.put("_id", id.equals("1") ? 1 : id.equals("0") ? (Object) 0 : false);
          }
          for (int i = 0; i < fields.size(); i++) {
            p.put(fields.get(i), values.get(i));
          }
          if (id.equals("last0")) {
            p.put("_id", 0);
          }
          return p;
        });
  }

  @Provide
  Arbitrary<Document> filters() {
    return filter(3);
  }

  private Arbitrary<Document> filter(int depth) {
    Arbitrary<Document> condition = Combinators.combine(Arbitraries.of(FIELDS), fieldCondition())
        .as((field, c) -> new Document(field, c));
    if (depth == 0) {
      return condition;
    }
    Arbitrary<Document> logical = Combinators.combine(Arbitraries.of("$and", "$or", "$nor"),
        Arbitraries.lazy(() -> filter(depth - 1)).list().ofMinSize(1).ofMaxSize(3))
        .as((op, clauses) -> new Document(op, clauses));
    Arbitrary<Document> part = Arbitraries.frequencyOf(Tuple.of(3, condition), Tuple.of(1, logical));
    return part.list().ofMinSize(0).ofMaxSize(3).map(parts -> {
      Document d = new Document();
      parts.forEach(d::putAll);
      return d;
    });
  }

  private Arbitrary<Object> fieldCondition() {
    Arbitrary<Object> argument = Arbitraries.frequencyOf(Tuple.of(8, plainValue()),
        Tuple.of(1, Arbitraries.of((Object) List.of(1), new Document("x", 1))), Tuple.of(1, Arbitraries.just(null)));
    Arbitrary<Object> list = plainValue().list().ofMaxSize(3).map(l -> (Object) l);
    Arbitrary<Tuple.Tuple2<String, Object>> operator = Arbitraries.frequencyOf(
        Tuple.of(6, Combinators.combine(Arbitraries.of("$eq", "$ne", "$gt", "$gte", "$lt", "$lte"), argument).as(Tuple::of)),
        Tuple.of(3, Combinators.combine(Arbitraries.of("$in", "$nin"), list).as(Tuple::of)),
        Tuple.of(1, Combinators.combine(Arbitraries.of("$exists", "$type", "$size"), Arbitraries.of((Object) 1, "string"))
            .as(Tuple::of)));
    Arbitrary<Object> operators = operator.list().ofMinSize(1).ofMaxSize(3).map(ops -> {
      Document d = new Document();
      ops.forEach(op -> d.put(op.get1(), op.get2()));
      return d;
    });
    return Arbitraries.frequencyOf(Tuple.of(2, argument), Tuple.of(3, operators));
  }
}
