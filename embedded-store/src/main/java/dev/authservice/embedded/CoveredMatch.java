package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * A {@code $match} filter compiled once for the index entries of a covered read
 * ({@link CoveredRead}), each field read from its place in the entry: top-level fields, each
 * holding one plain value (a string, date, boolean, ObjectId or number; never null, missing, an
 * array or a document: {@link CoveredRead#holdsAsStored}). The library's matcher reads the filter
 * again for every document (each field path split by a regular expression, each operator looked
 * up by name) and needs a document built first: half a summary's time over 100k entries. For such
 * entries this gives the library's answer on their documents, with the library's equality
 * (numbers by value, -0 as 0) and comparison (only within a type; {@link ValueComparator}).
 *
 * <p>Only filters made of {@code $and}, {@code $or}, {@code $nor} and conditions on top-level
 * fields by a plain value ({@code {f: v}}, {@code $eq}, {@code $ne}, {@code $in}, {@code $nin},
 * {@code $gt}, {@code $gte}, {@code $lt}, {@code $lte}) compile; any other filter is left to the
 * library's matcher.
 */
final class CoveredMatch {
  private CoveredMatch() {}

  /** The filter as a test of covered documents, or empty when it uses anything this does not compile. */
  static Optional<Predicate<KeyValue>> compile(Document filter, ToIntFunction<String> position) {
    return Optional.ofNullable(all(filter, position));
  }

  private static Predicate<KeyValue> all(Document filter, ToIntFunction<String> position) {
    List<Predicate<KeyValue>> parts = new ArrayList<>(filter.size());
    for (Map.Entry<String, Object> entry : filter.entrySet()) {
      Predicate<KeyValue> part = condition(entry.getKey(), entry.getValue(), position);
      if (part == null) {
        return null;
      }
      parts.add(part);
    }
    return allOf(parts);
  }

  private static Predicate<KeyValue> condition(String key, Object value, ToIntFunction<String> position) {
    switch (key) {
      case "$and", "$or", "$nor" -> {
        List<Predicate<KeyValue>> parts = clauses(value, position);
        if (parts == null) {
          return null;
        }
        return switch (key) {
          case "$and" -> allOf(parts);
          case "$or" -> anyOf(parts);
          default -> anyOf(parts).negate();
        };
      }
      default -> {
        int at = key.isEmpty() || key.startsWith("$") || key.indexOf('.') >= 0 ? -1 : position.applyAsInt(key);
        Predicate<Object> test = at < 0 ? null : valueTest(value);
        return test == null ? null : entry -> test.test(entry.get(at));
      }
    }
  }

  /** The clauses of {@code $and}/{@code $or}/{@code $nor}: a non-empty list of filters (the library rejects others). */
  private static List<Predicate<KeyValue>> clauses(Object value, ToIntFunction<String> position) {
    if (!(value instanceof List<?> list) || list.isEmpty()) {
      return null;
    }
    List<Predicate<KeyValue>> parts = new ArrayList<>(list.size());
    for (Object clause : list) {
      if (!(clause instanceof Document d)) {
        return null;
      }
      Predicate<KeyValue> part = all(d, position);
      if (part == null) {
        return null;
      }
      parts.add(part);
    }
    return parts;
  }

  /** A field's condition: a plain value (equality) or a document of operators only. */
  private static Predicate<Object> valueTest(Object condition) {
    if (CoveredRead.asStored(condition)) {
      return value -> same(value, condition);
    }
    if (!(condition instanceof Document operators) || operators.isEmpty()) {
      return null;
    }
    List<Predicate<Object>> tests = new ArrayList<>(operators.size());
    for (Map.Entry<String, Object> op : operators.entrySet()) {
      Predicate<Object> test = operator(op.getKey(), op.getValue());
      if (test == null) {
        return null;
      }
      tests.add(test);
    }
    return tests.size() == 1 ? tests.get(0) : value -> {
      for (Predicate<Object> test : tests) {
        if (!test.test(value)) {
          return false;
        }
      }
      return true;
    };
  }

  private static Predicate<Object> operator(String name, Object argument) {
    if (name.equals("$in") || name.equals("$nin")) {
      if (!(argument instanceof Collection<?> values) || !values.stream().allMatch(CoveredRead::asStored)) {
        return null;
      }
      // a string equals only the same string: those candidates are looked up, the others compared in turn
      Set<String> strings = new HashSet<>();
      List<Object> others = new ArrayList<>();
      values.forEach(v -> {
        if (v instanceof String text) {
          strings.add(text);
        } else {
          others.add(v);
        }
      });
      Predicate<Object> in = value -> {
        if (value instanceof String text) {
          return strings.contains(text);
        }
        for (Object candidate : others) {
          if (same(candidate, value)) {
            return true;
          }
        }
        return false;
      };
      return name.equals("$in") ? in : in.negate();
    }
    if (!CoveredRead.asStored(argument)) {
      return null;
    }
    // as the library: a range compares only values of one type (numbers count as one), then by its
    // comparator, which orders two dates or two strings by their own compareTo
    if (argument instanceof Instant bound && !name.equals("$eq") && !name.equals("$ne")) {
      return range(name, value -> value instanceof Instant time ? time.compareTo(bound) : null);
    }
    if (argument instanceof String bound && !name.equals("$eq") && !name.equals("$ne")) {
      return range(name, value -> value instanceof String text ? text.compareTo(bound) : null);
    }
    return switch (name) {
      case "$eq" -> value -> same(value, argument);
      case "$ne" -> value -> !same(value, argument);
      case "$gt" -> value -> comparable(value, argument) && ValueComparator.desc().compare(value, argument) < 0;
      case "$gte" -> value -> comparable(value, argument) && ValueComparator.desc().compare(value, argument) <= 0;
      case "$lt" -> value -> comparable(value, argument) && ValueComparator.asc().compare(value, argument) < 0;
      case "$lte" -> value -> comparable(value, argument) && ValueComparator.asc().compare(value, argument) <= 0;
      default -> null;
    };
  }

  /** A range on a date or string bound: {@code order} is the value's order against the bound, null for another type. */
  private static Predicate<Object> range(String name, Function<Object, Integer> order) {
    return switch (name) {
      case "$gt" -> value -> order.apply(value) instanceof Integer c && c > 0;
      case "$gte" -> value -> order.apply(value) instanceof Integer c && c >= 0;
      case "$lt" -> value -> order.apply(value) instanceof Integer c && c < 0;
      case "$lte" -> value -> order.apply(value) instanceof Integer c && c <= 0;
      default -> null;
    };
  }

  /** The library's equality of two non-null values: numbers as doubles (a long a double cannot hold, as itself), -0 as 0. */
  static boolean same(Object a, Object b) {
    return a == b || Objects.equals(ScalarIndexKeys.normalized(a), ScalarIndexKeys.normalized(b));
  }

  private static boolean comparable(Object value, Object argument) {
    Object a = ScalarIndexKeys.normalized(value);
    Object b = ScalarIndexKeys.normalized(argument);
    return a instanceof Number && b instanceof Number || a.getClass().equals(b.getClass());
  }

  private static Predicate<KeyValue> allOf(List<Predicate<KeyValue>> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    return document -> {
      for (Predicate<KeyValue> part : parts) {
        if (!part.test(document)) {
          return false;
        }
      }
      return true;
    };
  }

  private static Predicate<KeyValue> anyOf(List<Predicate<KeyValue>> parts) {
    return document -> {
      for (Predicate<KeyValue> part : parts) {
        if (part.test(document)) {
          return true;
        }
      }
      return false;
    };
  }
}
