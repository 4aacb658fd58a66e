package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.aggregation.accumulator.Accumulator;
import de.bwaldvogel.mongo.bson.Document;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The library's {@code $group} stage with a hash table in front of its ordered map. The library
 * finds each document's group in a {@code TreeMap} ordered by MongoDB's comparison of the group
 * keys: several comparisons of whole key documents per document, a quarter of a summary's time
 * (a day of hourly buckets by type and outcome over 100k events). Keys whose values are all
 * strings, dates or booleans (such a summary's) are equal exactly when {@link Document#equals}
 * says so, and never equal to a key of any other kind, so they go to a hash table; every other
 * key goes to the ordered map as before. The groups come out merged in the library's order, with
 * the library's expressions and accumulators: the same answer.
 */
final class HashedGroupStage {
  private static final String ID_FIELD = "_id";

  private final Function<Document, Object> groupKey;
  /** The key's parts when {@link GroupKeys} computes them directly, else null. */
  private final GroupKeys.Parts parts;
  private final Map<String, Supplier<Accumulator>> accumulatorSuppliers;
  /** Each accumulator's argument, in the order of {@link #newAccumulators}. */
  private final List<Function<Document, Object>> accumulated;

  HashedGroupStage(Document groupQuery) {
    // the summary's key (fields and time buckets) computed directly, as the library would
    this.groupKey = GroupKeys.compile(groupQuery.get(ID_FIELD));
    this.parts = GroupKeys.parts(groupQuery.get(ID_FIELD)).orElse(null);
    this.accumulatorSuppliers = Accumulator.parse(groupQuery);
    this.accumulated = accumulatorSuppliers.values().stream()
        .map(supplier -> GroupKeys.compileValue(supplier.get().getExpression())).toList();
  }

  Stream<Document> apply(Stream<Document> stream) {
    Map<Object, Collection<Accumulator>> hashed = new HashMap<>();
    Map<Object, Collection<Accumulator>> ordered = new TreeMap<>(ValueComparator.asc());
    Run run = new Run();
    stream.forEach(document -> {
      Collection<Accumulator> accumulators = run.groupOf(document);
      if (accumulators == null) {
        Object key = run.key != null ? run.key : groupKey.apply(document);
        if (key instanceof Missing) {
          key = null;
        }
        Map<Object, Collection<Accumulator>> groups = hashable(key) ? hashed : ordered;
        accumulators = groups.computeIfAbsent(key, k -> newAccumulators());
        run.started(accumulators);
      }
      int i = 0;
      for (Accumulator accumulator : accumulators) {
        accumulator.aggregate(accumulated.get(i++).apply(document));
      }
    });
    ordered.putAll(hashed);
    List<Document> result = new ArrayList<>(ordered.size());
    ordered.forEach((key, accumulators) -> {
      Document group = new Document();
      group.put(ID_FIELD, key);
      for (Accumulator accumulator : accumulators) {
        group.put(accumulator.getField(), accumulator.getResult());
      }
      result.add(group);
    });
    return result.stream();
  }

  /**
   * The group of the document before, kept while documents keep its key. An index walk meets
   * a summary's documents in runs of one key (one type, outcome and hour after another), so most
   * documents need their key's parts computed and compared, not a key document built and looked up.
   * Parts that are {@code equals} make equal keys in both maps (strings, dates and booleans by
   * {@code equals}; numbers, lists and the rest compare equal too when {@code equals}); parts
   * that are not may still be one group, which the lookup then finds.
   */
  private final class Run {
    private Object[] values = parts == null ? null : new Object[parts.size()];
    private Object[] previous = parts == null ? null : new Object[parts.size()];
    private Collection<Accumulator> group;
    /** The key of a document whose group the run did not know: built from its parts, or null for the library's. */
    private Document key;

    Collection<Accumulator> groupOf(Document document) {
      key = null;
      if (parts == null || !parts.valuesInto(document, values)) {
        group = null;
        return null;
      }
      if (group != null && Arrays.equals(values, previous)) {
        return group;
      }
      key = parts.key(values);
      return null;
    }

    void started(Collection<Accumulator> accumulators) {
      if (key == null) {
        group = null;
        return;
      }
      group = accumulators;
      Object[] swap = previous;
      previous = values;
      values = swap;
    }
  }

  private Collection<Accumulator> newAccumulators() {
    List<Accumulator> accumulators = new ArrayList<>(accumulatorSuppliers.size());
    accumulatorSuppliers.values().forEach(supplier -> accumulators.add(supplier.get()));
    return accumulators;
  }

  /**
   * Whether equality of this key is {@code equals}: a string, date or boolean, or a document of
   * only those (document equality is field by field in order, as MongoDB's).
   */
  static boolean hashable(Object key) {
    if (key instanceof Document document) {
      for (Object value : document.values()) {
        if (!plain(value)) {
          return false;
        }
      }
      return true;
    }
    return plain(key);
  }

  private static boolean plain(Object value) {
    return value instanceof String || value instanceof Instant || value instanceof Boolean;
  }
}
