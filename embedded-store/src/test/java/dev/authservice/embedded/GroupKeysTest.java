package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static dev.authservice.embedded.GeneratedFields.MISSING;
import static dev.authservice.embedded.GeneratedFields.put;

import de.bwaldvogel.mongo.backend.aggregation.Expression;
import de.bwaldvogel.mongo.bson.Document;
import java.time.Instant;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

/**
 * {@link GroupKeys} gives the key the library's own evaluation gives, for every document: the
 * summary's bucket arithmetic over dates before and after the epoch, at widths of every numeric
 * type, and the values it leaves to the library (missing, null, numbers, strings that look like
 * field paths, documents), compared value and type (or the same error).
 */
class GroupKeysTest {
  @Property(tries = 2000)
  void theKeyIsTheLibrarysKey(@ForAll("keys") Document idExpression, @ForAll("documents") Document document) {
    assertEquals(library(idExpression, document), compiled(idExpression, document),
        () -> "key " + idExpression + " of " + document);
  }

  @Property(tries = 1000)
  void theAccumulatedValueIsTheLibrarys(@ForAll("accumulated") Object expression, @ForAll("documents") Document document) {
    assertEquals(library(expression, document), accumulated(expression, document),
        () -> "value " + expression + " of " + document);
  }

  /** The summary's count is computed directly, not handed back to the library. */
  @Test
  void theSummaryCountIsComputedDirectly() {
    Document count = new Document("$ifNull", List.of("$outcome", 1L));
    assertNotSame(GroupKeys.compileValue(new Document("$size", "$outcome")).getClass(),
        GroupKeys.compileValue(count).getClass());
    assertEquals(1L, GroupKeys.compileValue(count).apply(new Document("type", "LOGIN")));
    assertEquals(7L, GroupKeys.compileValue(count).apply(new Document("outcome", 7L)));
  }

  /** The summary's shape is the one computed directly, not handed back to the library (else this proves nothing). */
  @Test
  void theSummaryShapeIsComputedDirectly() {
    Document id = new Document("b", bucket("time", "time", 3_600_000L)).append("k0", "$type");
    var key = GroupKeys.compile(id);
    Document doc = new Document("time", Instant.parse("2026-12-02T17:59:59.999Z")).append("type", "LOGIN");
    assertEquals(new Document("b", Instant.parse("2026-12-02T17:00:00Z")).append("k0", "LOGIN"), key.apply(doc));
    // what the library's evaluation would be called with, the compiled one never is
    assertNotSame(GroupKeys.compile("$type").getClass(), key.getClass());
  }

  private static Object library(Object id, Document document) {
    try {
      return typed(Expression.evaluateDocument(id, document));
    } catch (RuntimeException e) {
      return "error " + e.getMessage();
    }
  }

  private static Object accumulated(Object expression, Document document) {
    try {
      return typed(GroupKeys.compileValue(expression).apply(document));
    } catch (RuntimeException e) {
      return "error " + e.getMessage();
    }
  }

  private static Object compiled(Document id, Document document) {
    try {
      return typed(GroupKeys.compile(id).apply(document));
    } catch (RuntimeException e) {
      return "error " + e.getMessage();
    }
  }

  /** Each value with its type: 1 and 1.0 are different keys' values here. */
  private static Object typed(Object value) {
    if (value instanceof Document d) {
      Document out = new Document();
      d.forEach((k, v) -> out.put(k, typed(v)));
      return out;
    }
    return value == null ? "null" : value.getClass().getSimpleName() + ":" + value;
  }

  private static Document bucket(String field, String innerField, Object width) {
    return new Document("$subtract", List.of("$" + field, new Document("$mod",
        List.of(new Document("$subtract", List.of("$" + innerField, Instant.EPOCH)), width))));
  }

  @Provide
  Arbitrary<Document> keys() {
    Arbitrary<Object> width = Arbitraries.of(3_600_000L, 60_000L, 86_400_000L, 7, 2.5, 0L, -3_600_000L)
        .map(w -> (Object) w);
    Arbitrary<Object> part = Arbitraries.frequencyOf(
        Tuple.of(4, Combinators.combine(Arbitraries.of("time", "t2"), width)
            .as((f, w) -> (Object) bucket(f, f, w))),
        Tuple.of(1, width.map(w -> (Object) bucket("time", "t2", w))),
        Tuple.of(3, Arbitraries.of("$type", "$outcome", "$time", "$absent", "$n.x").map(s -> (Object) s)),
        Tuple.of(1, Arbitraries.of((Object) "literal", 5L)));
    return part.list().ofMinSize(1).ofMaxSize(3).map(parts -> {
      Document id = new Document();
      for (int i = 0; i < parts.size(); i++) {
        id.put("k" + i, parts.get(i));
      }
      return id;
    });
  }

  @Provide
  Arbitrary<Object> accumulated() {
    Arbitrary<Object> field = Arbitraries.of("$type", "$outcome", "$time", "$absent", "$n.x", "$$ROOT").map(s -> (Object) s);
    Arbitrary<Object> constant = Arbitraries.of((Object) 1, 1L, 2.5, "one", true);
    return Arbitraries.frequencyOf(
        Tuple.of(3, Combinators.combine(field, constant).as((f, c) -> (Object) new Document("$ifNull", List.of(f, c)))),
        Tuple.of(2, field), Tuple.of(1, constant),
        Tuple.of(1, field.map(f -> (Object) new Document("$ifNull", List.of(f)))),
        Tuple.of(1, field.map(f -> (Object) new Document("$ifNull", List.of(f, 1L)).append("$add", List.of(1, 2)))));
  }

  @Provide
  Arbitrary<Document> documents() {
    Arbitrary<Object> time = Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.longs().between(-5_000_000_000_000L, 5_000_000_000_000L)
            .map(ms -> (Object) Instant.ofEpochMilli(ms))),
        Tuple.of(1, Arbitraries.just((Object) Instant.EPOCH)),
        Tuple.of(1, Arbitraries.of((Object) "$type", "2026", 12L, 1.5)),
        Tuple.of(1, Arbitraries.just(MISSING)), Tuple.of(1, Arbitraries.just(null)));
    Arbitrary<Object> value = Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.of((Object) "LOGIN", "AUDIT_OUTCOME_SUCCESS", "")),
        Tuple.of(1, Arbitraries.of((Object) "$outcome", "$$ROOT", 3, 4L, 2.0, true)),
        Tuple.of(1, Arbitraries.just((Object) new Document("x", "$type"))),
        Tuple.of(1, Arbitraries.just((Object) List.of("a", "b"))),
        Tuple.of(1, Arbitraries.just(MISSING)), Tuple.of(1, Arbitraries.just(null)));
    return Combinators.combine(time, time, value, value).as((t, t2, type, outcome) -> {
      Document d = new Document();
      put(d, "time", t);
      put(d, "t2", t2);
      put(d, "type", type);
      put(d, "outcome", outcome);
      return d;
    });
  }
}
