package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.memory.index.MemoryUniqueIndex;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The write path's shortcuts must give exactly what the library's general code gives: the index
 * key of a document ({@link ScalarIndexKeys} against the library's {@code Index.getKeyValues}),
 * and the order of two key values ({@link BsonDataTypes.KeyValueType} against the library's
 * {@link ValueComparator}). The differential test checks whole queries; this checks the pieces
 * over values it rarely draws (negative zero, longs a double cannot hold, mixed types).
 */
class IndexKeyFastPathTest {
  private static final List<String> FIELDS = List.of("a", "b", "c");

  @Property(tries = 2000)
  void scalarKeysAreTheLibrarysKeys(@ForAll("documents") Document document, @ForAll("keys") List<String> fields) {
    List<IndexKey> keys = fields.stream().map(f -> new IndexKey(f, true)).toList();
    Object[] fast = ScalarIndexKeys.forKeys(keys).valuesOf(document);
    if (fast != null) {
      Set<KeyValue> library = new MemoryUniqueIndex("i", keys, false).getKeyValues(document);
      assertEquals(library, Set.of(ScalarIndexKeys.keyOf(fast)), document::toString);
      assertEquals(fields.stream().noneMatch(document::containsKey), ScalarIndexKeys.forKeys(keys).noneIn(document));
    } else {
      // only arrays and documents leave the shortcut (the library's path then also checks for parallel arrays)
      assertTrue(fields.stream().map(document::get)
          .anyMatch(v -> v instanceof java.util.Collection<?> || v instanceof java.util.Map<?, ?>), document::toString);
    }
  }

  @Property(tries = 2000)
  void keyOrderIsTheLibrarysOrder(@ForAll("values") Object x, @ForAll("values") Object y) {
    KeyValue a = new KeyValue(x, "id");
    KeyValue b = new KeyValue(y, "id");
    assertEquals(Integer.signum(ValueComparator.asc().compare(x, y)),
        Integer.signum(new BsonDataTypes.KeyValueType(new CanonicalStrings()).compare(a, b)), () -> x + " vs " + y);
  }

  @Property
  void aDottedKeyIsLeftToTheLibrary() {
    assertNull(ScalarIndexKeys.forKeys(List.of(new IndexKey("a", true), new IndexKey("n.x", true))));
  }

  @Provide
  Arbitrary<List<String>> keys() {
    return Arbitraries.of(FIELDS).list().ofMinSize(1).ofMaxSize(3).uniqueElements();
  }

  @Provide
  Arbitrary<Document> documents() {
    Arbitrary<Object> field = Arbitraries.oneOf(values(), Arbitraries.just(Absent.INSTANCE),
        values().list().ofMaxSize(2).map(l -> (Object) l), values().map(v -> (Object) new Document("x", v)));
    return Combinators.combine(field, field, field).as((a, b, c) -> {
      Document document = new Document("_id", "d");
      Object[] values = {a, b, c};
      for (int i = 0; i < FIELDS.size(); i++) {
        if (values[i] != Absent.INSTANCE) {
          document.put(FIELDS.get(i), values[i]);
        }
      }
      return document;
    });
  }

  @Provide
  Arbitrary<Object> values() {
    return Arbitraries.oneOf(
        Arbitraries.just(null),
        Arbitraries.of(0, -1, 1, 3, Integer.MIN_VALUE).map(i -> (Object) i),
        Arbitraries.of(0L, -1L, 3L, 1L << 40, (1L << 53) + 1, Long.MAX_VALUE, Long.MIN_VALUE).map(l -> (Object) l),
        Arbitraries.of(0.0, -0.0, 0.5, 3.0, (double) (1L << 40), Double.NaN, Double.NEGATIVE_INFINITY)
            .map(d -> (Object) d),
        Arbitraries.of("", "a", "b", "ab", "B", "\u00e9", "\uD83D\uDE00").map(s -> (Object) s),
        Arbitraries.of(0L, 1L, 1_780_000_000_000L).map(ms -> (Object) Instant.ofEpochMilli(ms)),
        Arbitraries.of(true, false).map(b -> (Object) b),
        Arbitraries.integers().between(0, 2).map(i -> (Object) new ObjectId(String.format("%024x", i))));
  }

  private enum Absent { INSTANCE }
}
