package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static dev.authservice.embedded.GeneratedFields.MISSING;
import static dev.authservice.embedded.GeneratedFields.put;

import de.bwaldvogel.mongo.backend.aggregation.stage.GroupStage;
import de.bwaldvogel.mongo.bson.Document;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * {@link HashedGroupStage} gives what the library's {@code $group} gives, groups in the same
 * order, values of the same types: on runs of documents with one key (as an index walk meets a
 * summary's), keys that are equal without being {@code equals} (1, 1L and 1.0; -0.0 and 0.0),
 * missing and null parts, values the library must evaluate itself (documents, strings that look
 * like field paths, times that are not dates), and accumulators that depend on the order.
 */
class HashedGroupStageTest {
  private static final Instant T = Instant.parse("2026-12-02T10:15:00Z");

  @Property(tries = 1500)
  void groupsAsTheLibraryDoes(@ForAll("groups") Document group, @ForAll("runs") List<Document> documents) {
    Object expected;
    try {
      expected = typed(new GroupStage(group).apply(documents.stream()).toList());
    } catch (RuntimeException e) {
      expected = "error " + e.getMessage();
    }
    Object actual;
    try {
      actual = typed(new HashedGroupStage(group).apply(documents.stream()).toList());
    } catch (RuntimeException e) {
      actual = "error " + e.getMessage();
    }
    assertEquals(expected, actual, () -> group + " over " + documents);
  }

  private static Object typed(Object value) {
    if (value instanceof Document d) {
      List<String> out = new ArrayList<>();
      d.forEach((k, v) -> out.add(k + "=" + typed(v)));
      return out.toString();
    }
    if (value instanceof List<?> l) {
      return l.stream().map(HashedGroupStageTest::typed).toList().toString();
    }
    return value == null ? "null" : value.getClass().getSimpleName() + ":" + value;
  }

  private static Document bucket(String field) {
    return new Document("$subtract", List.of("$" + field, new Document("$mod",
        List.of(new Document("$subtract", List.of("$" + field, Instant.EPOCH)), 3_600_000L))));
  }

  @Provide
  Arbitrary<Document> groups() {
    Document summary = new Document("_id", new Document("b", bucket("time")).append("k0", "$type").append("k1", "$outcome"))
        .append("n", new Document("$sum", new Document("$ifNull", List.of("$count", 1L))));
    Document byType = new Document("_id", new Document("k0", "$type"))
        .append("n", new Document("$sum", 1)).append("m", new Document("$max", "$count"))
        .append("f", new Document("$first", "$outcome")).append("l", new Document("$last", "$time"));
    Document byBucket = new Document("_id", new Document("b", bucket("time")))
        .append("s", new Document("$sum", "$count")).append("p", new Document("$push", "$type"));
    Document library = new Document("_id", "$type").append("n", new Document("$sum", 1));
    return Arbitraries.of(summary, byType, byBucket, library);
  }

  @Provide
  Arbitrary<List<Document>> runs() {
    Arbitrary<Object> type = Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.of((Object) "LOGIN", "VALIDATE")),
        Tuple.of(2, Arbitraries.of((Object) 1, 1L, 1.0, -0.0, 0.0, true)),
        Tuple.of(1, Arbitraries.of((Object) "$outcome", new Document("x", 1), List.of("a"))),
        Tuple.of(1, Arbitraries.just(MISSING)), Tuple.of(1, Arbitraries.just(null)));
    Arbitrary<Object> time = Arbitraries.frequencyOf(
        Tuple.of(8, Arbitraries.integers().between(0, 5).map(h -> (Object) T.plusSeconds(h * 1_800L))),
        Tuple.of(1, Arbitraries.of((Object) "2026", 5L)), Tuple.of(1, Arbitraries.just(MISSING)));
    Arbitrary<Object> count = Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.of((Object) 1L, 3L, 2, 1.5)),
        Tuple.of(1, Arbitraries.just(null)), Tuple.of(1, Arbitraries.just(MISSING)));
    Arbitrary<Document> document = Combinators.combine(type, Arbitraries.of((Object) "SUCCESS", "FAILURE"), time, count)
        .as((t, o, ti, c) -> {
          Document d = new Document();
          put(d, "type", t);
          put(d, "outcome", o);
          put(d, "time", ti);
          put(d, "count", c);
          return d;
        });
    // runs: each document repeated, as an index walk meets one key's documents one after another
    return Combinators.combine(document, Arbitraries.integers().between(1, 4)).as((d, n) -> {
      List<Document> run = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        run.add(d);
      }
      return run;
    }).list().ofMaxSize(12).map(runs -> runs.stream().flatMap(List::stream).toList());
  }
}
