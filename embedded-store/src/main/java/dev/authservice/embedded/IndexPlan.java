package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * How one query walks one {@link OrderedIndex}: the leading index keys the query pins to values
 * (equality or a short {@code $in}), then at most one key bounded by a range, as key ranges to
 * scan; and whether the walk already yields the requested sort order, so the collection can
 * stop at the limit instead of sorting every candidate. Several pinned values make one walk per
 * combination, merged in sort order when the keys after them are the sort (MongoDB's
 * SORT_MERGE). A query no index narrows, sorted the way an index is, walks that whole index in
 * order (MongoDB's full index scan for a sort). The walk yields a superset of the matches: the
 * collection still applies the whole query to every document.
 */
final class IndexPlan {
  /** Walks one plan may merge: MongoDB explodes at most 200 point combinations for a sort (internalQueryMaxScansToExplode). */
  private static final int MAX_RANGES = 200;
  private static final Object NOT_PLANNABLE = new Object();

  private final OrderedIndex index;
  private final List<KeyValue[]> ranges;
  private final int pinnedKeys;
  private final boolean ordered;
  /** Whether the walks must be merged to give the order: only when a sort remains to follow. */
  private final boolean merged;
  private final boolean reverse;
  private final boolean mayRepeat;
  private final int score;

  private IndexPlan(OrderedIndex index, List<KeyValue[]> ranges, int pinnedKeys, boolean ordered, boolean merged,
      boolean reverse, boolean mayRepeat, int score) {
    this.index = index;
    this.ranges = ranges;
    this.pinnedKeys = pinnedKeys;
    this.ordered = ordered;
    this.merged = merged;
    this.reverse = reverse;
    this.mayRepeat = mayRepeat;
    this.score = score;
  }

  /** The best plan among the indexes, or empty when none narrows the query. */
  static Optional<IndexPlan> best(List<? extends OrderedIndex> indexes, Document query, Document orderBy) {
    Map<String, Object> conditions = conditions(query);
    List<Map.Entry<String, Boolean>> sort = sortFields(orderBy);
    IndexPlan best = null;
    for (OrderedIndex index : indexes) {
      IndexPlan plan = plan(index, conditions, sort, index.multikeyPaths());
      if (plan != null && (best == null || plan.score > best.score)) {
        best = plan;
      }
    }
    return Optional.ofNullable(best);
  }

  /** Whether the walk yields documents in the requested order already. */
  boolean ordered() {
    return ordered;
  }

  /** The index walked. */
  OrderedIndex index() {
    return index;
  }

  /** The positions (document ids) of the candidates, each once, in the walk's order. */
  Iterator<Object> positions() {
    Iterator<Object> positions = map(entries());
    return mayRepeat ? distinct(positions) : positions;
  }

  /** The index entries walked, in the walk's order; a document more than once only on a multikey index. */
  Iterator<Map.Entry<KeyValue, Object>> entries() {
    List<Iterator<Map.Entry<KeyValue, Object>>> walks = new ArrayList<>(ranges.size());
    for (KeyValue[] range : ranges) {
      walks.add(index.scan(range[0], range[1], reverse));
    }
    // with no sort to follow (an aggregation's $group, a find without a sort) any order will do:
    // merging would compare the keys of every entry for nothing
    return walks.size() == 1 ? walks.get(0) : merged ? merge(walks) : concat(walks);
  }

  private static IndexPlan plan(OrderedIndex index, Map<String, Object> conditions,
      List<Map.Entry<String, Boolean>> sort, java.util.Set<String> multikeyPaths) {
    boolean multikey = !multikeyPaths.isEmpty();
    List<IndexKey> keys = index.getKeys();
    List<List<Object>> pinned = new ArrayList<>();
    int i = 0;
    for (; i < keys.size(); i++) {
      List<Object> values = pinnedValues(conditions.get(keys.get(i).getKey()));
      if (values == null) {
        break;
      }
      pinned.add(values);
    }
    Object rangeCondition = i < keys.size() ? conditions.get(keys.get(i).getKey()) : null;
    List<Range> intervals = Range.gapsOf(rangeCondition);
    Range range = intervals != null ? intervals.get(0) : Range.of(rangeCondition);
    // whether the ranged field holds arrays: pinned fields that do still leave each walk in this one's order
    boolean rangeOverArrays = range != null && multikeyPaths.contains(keys.get(i).getKey());
    if (intervals == null) {
      if (rangeOverArrays) {
        // {a: {$gt: 3, $lt: 2}} matches a: [1, 5], each bound by another element: on an index over
        // arrays, bounds on one key cannot be intersected, so the walk keeps one of them
        range = range.lowerBoundOnly();
      }
      intervals = java.util.Collections.singletonList(range);
    }
    // nothing narrows the walk: worth it only to follow the sort and stop at the limit. Not on a
    // sparse index, which lacks documents; not over arrays, where a document sorts by one of its
    // elements; and against the whole sort, since a field pinned elsewhere may still hold arrays
    boolean unbounded = i == 0 && range == null;
    if (unbounded && (sort.isEmpty() || multikey || index.sparse())) {
      return null;
    }
    List<List<Object>> prefixes = cartesian(pinned);
    if ((long) prefixes.size() * intervals.size() > MAX_RANGES) {
      return null;
    }
    List<KeyValue[]> ranges = new ArrayList<>(prefixes.size() * intervals.size());
    for (List<Object> prefix : prefixes) {
      for (Range interval : intervals) {
        ranges.add(new KeyValue[] {lower(prefix, interval), upper(prefix, interval)});
      }
    }

    // sorting by a field pinned to one value changes nothing, unless it may hold arrays: {a: 2}
    // matches a: [2.5, 2], which sorts descending by 2.5. Known not to only on this index's own
    // fields, when nothing in it is an array; the rest must follow the index
    List<Map.Entry<String, Boolean>> remaining = new ArrayList<>();
    for (Map.Entry<String, Boolean> field : sort) {
      List<Object> values = pinnedValues(conditions.get(field.getKey()));
      boolean neverArray = !multikeyPaths.contains(field.getKey())
          && keys.stream().anyMatch(k -> k.getKey().equals(field.getKey()));
      if (unbounded || values == null || values.size() != 1 || !neverArray) {
        remaining.add(field);
      }
    }
    boolean ordered = true;
    boolean reverse = false;
    for (int s = 0; s < remaining.size(); s++) {
      int k = i + s;
      boolean descending = !remaining.get(s).getValue();
      if (k >= keys.size() || !keys.get(k).getKey().equals(remaining.get(s).getKey())
          || (s > 0 && descending != reverse)) {
        ordered = false;
        break;
      }
      reverse = descending;
    }
    if (rangeOverArrays) {
      // a document sorts by its least (or greatest) element, which a walk from a bound may not meet first
      ordered = false;
    }
    if (!ordered) {
      if (unbounded) {
        return null;
      }
      reverse = false;
    }
    int score = 4 * i + (range != null ? 2 : 0) + (ordered ? 1 : 0);
    return new IndexPlan(index, ranges, i, ordered, ordered && !remaining.isEmpty(), reverse, multikey, score);
  }

  /** Top-level conditions by field, with {@code $and} flattened; operators elsewhere are left to the matcher. */
  private static Map<String, Object> conditions(Document query) {
    Map<String, Object> conditions = new LinkedHashMap<>();
    collect(query, conditions);
    return conditions;
  }

  private static void collect(Document query, Map<String, Object> conditions) {
    for (Map.Entry<String, Object> entry : query.entrySet()) {
      if (entry.getKey().equals("$and") && entry.getValue() instanceof Collection<?> parts) {
        for (Object part : parts) {
          if (part instanceof Document d) {
            collect(d, conditions);
          }
        }
      } else if (!entry.getKey().startsWith("$")) {
        // null (which matches missing fields too) never pins a field
        Object condition = entry.getValue() == null ? NOT_PLANNABLE : entry.getValue();
        conditions.merge(entry.getKey(), condition, IndexPlan::both);
      }
    }
  }

  /** Two conditions on one field: operators on both sides combine (as {@code $and} renders ranges); else the matcher decides. */
  private static Object both(Object a, Object b) {
    if (a instanceof Document x && b instanceof Document y && operatorsOnly(x) && operatorsOnly(y)
        && java.util.Collections.disjoint(x.keySet(), y.keySet())) {
      Document combined = new Document(x);
      combined.putAll(y);
      return combined;
    }
    return NOT_PLANNABLE;
  }

  private static boolean operatorsOnly(Document condition) {
    return !condition.isEmpty() && condition.keySet().stream().allMatch(k -> k.startsWith("$"));
  }

  /** The values an equality or {@code $in} pins a field to, or null when it does not. */
  private static List<Object> pinnedValues(Object condition) {
    if (condition == null || condition == NOT_PLANNABLE) {
      return null;
    }
    if (condition instanceof Document d) {
      if (d.size() == 1 && d.containsKey("$eq")) {
        return scalar(d.get("$eq")) ? List.of(d.get("$eq")) : null;
      }
      if (d.size() == 1 && d.get("$in") instanceof Collection<?> values && !values.isEmpty()
          && values.size() <= MAX_RANGES && values.stream().allMatch(IndexPlan::scalar)) {
        // each value once: {$in: [1, 1.0]} walked twice would answer its documents twice
        java.util.TreeSet<Object> distinct = new java.util.TreeSet<>(ValueComparator.asc());
        distinct.addAll(values);
        return new ArrayList<>(distinct);
      }
      return null;
    }
    return scalar(condition) ? List.of(condition) : null;
  }

  /** A value that equality matches by comparison alone: not null (which matches missing), no array, document or pattern. */
  private static boolean scalar(Object value) {
    return !Missing.isNullOrMissing(value) && !(value instanceof Document) && !(value instanceof Collection)
        && !(value instanceof BsonRegularExpression) && !(value instanceof Pattern)
        && !(value instanceof MinKey) && !(value instanceof MaxKey);
  }

  private record Range(Object low, boolean lowInclusive, Object high, boolean highInclusive) {
    Range lowerBoundOnly() {
      return low == null ? this : new Range(low, lowInclusive, null, false);
    }

    /**
     * {@code $nin} of scalars alone: the gaps between its values, below the first (where null and
     * missing values are) and above the last, each open at the values. Every document it matches
     * has an entry in a gap; an element of an array in a gap does not make a match, which the
     * matcher decides, as always. Null otherwise.
     */
    static List<Range> gapsOf(Object condition) {
      if (!(condition instanceof Document d) || d.size() != 1 || !(d.get("$nin") instanceof Collection<?> values)
          || values.isEmpty() || values.size() >= MAX_RANGES || !values.stream().allMatch(IndexPlan::scalar)) {
        return null;
      }
      java.util.TreeSet<Object> sorted = new java.util.TreeSet<>(ValueComparator.asc());
      sorted.addAll(values);
      List<Range> gaps = new ArrayList<>(sorted.size() + 1);
      Object previous = null;
      for (Object value : sorted) {
        gaps.add(new Range(previous, false, value, false));
        previous = value;
      }
      gaps.add(new Range(previous, false, null, false));
      return gaps;
    }

    static Range of(Object condition) {
      if (!(condition instanceof Document d)) {
        return null;
      }
      Object low = null;
      Object high = null;
      boolean lowInclusive = false;
      boolean highInclusive = false;
      for (Map.Entry<String, Object> op : d.entrySet()) {
        Object value = op.getValue();
        if (!op.getKey().startsWith("$")) {
          return null;
        }
        switch (op.getKey()) {
          case "$gt", "$gte" -> {
            if (!scalar(value)) {
              return null;
            }
            low = value;
            lowInclusive = op.getKey().equals("$gte");
          }
          case "$lt", "$lte" -> {
            if (!scalar(value)) {
              return null;
            }
            high = value;
            highInclusive = op.getKey().equals("$lte");
          }
          default -> {
            // other operators narrow further; the matcher applies them
          }
        }
      }
      return low == null && high == null ? null : new Range(low, lowInclusive, high, highInclusive);
    }
  }

  // Bounds rely on a shorter key sorting before the longer keys it prefixes, on stored keys never
  // holding MaxKey, and holding MinKey only for an empty array, which no bound here can match.
  private static KeyValue lower(List<Object> prefix, Range range) {
    List<Object> key = new ArrayList<>(prefix);
    if (range != null && range.low() != null) {
      key.add(range.low());
      if (!range.lowInclusive()) {
        key.add(MaxKey.getInstance());
      }
    } else if (key.isEmpty()) {
      key.add(MinKey.getInstance());
    }
    return new KeyValue(key);
  }

  private static KeyValue upper(List<Object> prefix, Range range) {
    List<Object> key = new ArrayList<>(prefix);
    if (range != null && range.high() != null) {
      key.add(range.high());
      if (range.highInclusive()) {
        key.add(MaxKey.getInstance());
      }
    } else {
      key.add(MaxKey.getInstance());
    }
    return new KeyValue(key);
  }

  private static List<List<Object>> cartesian(List<List<Object>> choices) {
    List<List<Object>> out = new ArrayList<>();
    out.add(List.of());
    for (List<Object> values : choices) {
      List<List<Object>> next = new ArrayList<>(out.size() * values.size());
      for (List<Object> prefix : out) {
        for (Object value : values) {
          List<Object> longer = new ArrayList<>(prefix);
          longer.add(value);
          next.add(longer);
        }
      }
      out = next;
      if (out.size() > MAX_RANGES) {
        return out;
      }
    }
    return out;
  }

  private static List<Map.Entry<String, Boolean>> sortFields(Document orderBy) {
    List<Map.Entry<String, Boolean>> fields = new ArrayList<>();
    if (orderBy != null) {
      for (Map.Entry<String, Object> entry : orderBy.entrySet()) {
        boolean ascending = !(entry.getValue() instanceof Number n) || n.doubleValue() >= 0;
        fields.add(Map.entry(entry.getKey(), ascending));
      }
    }
    return fields;
  }

  /** Merges walks over several pinned prefixes by the keys after the prefix. */
  private Iterator<Map.Entry<KeyValue, Object>> merge(List<Iterator<Map.Entry<KeyValue, Object>>> walks) {
    Comparator<KeyValue> suffix = (a, b) -> {
      for (int k = pinnedKeys; k < Math.min(a.size(), b.size()); k++) {
        int c = ValueComparator.asc().compare(a.get(k), b.get(k));
        if (c != 0) {
          return c;
        }
      }
      return Integer.compare(a.size(), b.size());
    };
    Comparator<Head> order = Comparator.comparing(h -> h.entry.getKey(), reverse ? suffix.reversed() : suffix);
    PriorityQueue<Head> heads = new PriorityQueue<>(order);
    for (Iterator<Map.Entry<KeyValue, Object>> walk : walks) {
      if (walk.hasNext()) {
        heads.add(new Head(walk.next(), walk));
      }
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return !heads.isEmpty();
      }

      @Override
      public Map.Entry<KeyValue, Object> next() {
        Head head = heads.poll();
        if (head == null) {
          throw new NoSuchElementException();
        }
        if (head.walk.hasNext()) {
          heads.add(new Head(head.walk.next(), head.walk));
        }
        return head.entry;
      }
    };
  }

  private record Head(Map.Entry<KeyValue, Object> entry, Iterator<Map.Entry<KeyValue, Object>> walk) {}

  private static Iterator<Map.Entry<KeyValue, Object>> concat(List<Iterator<Map.Entry<KeyValue, Object>>> walks) {
    Iterator<Iterator<Map.Entry<KeyValue, Object>>> outer = walks.iterator();
    return new Iterator<>() {
      Iterator<Map.Entry<KeyValue, Object>> current = outer.next();

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && outer.hasNext()) {
          current = outer.next();
        }
        return current.hasNext();
      }

      @Override
      public Map.Entry<KeyValue, Object> next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }

  private static Iterator<Object> map(Iterator<Map.Entry<KeyValue, Object>> entries) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return entries.hasNext();
      }

      @Override
      public Object next() {
        return entries.next().getValue();
      }
    };
  }

  /** Drops repeats, which only an index over array values (one entry per element) can produce. */
  private static Iterator<Object> distinct(Iterator<Object> positions) {
    Set<Object> seen = new HashSet<>();
    return new Iterator<>() {
      Object next = advance();

      private Object advance() {
        while (positions.hasNext()) {
          Object candidate = positions.next();
          if (seen.add(candidate)) {
            return candidate;
          }
        }
        return null;
      }

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public Object next() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        Object current = next;
        next = advance();
        return current;
      }
    };
  }
}
