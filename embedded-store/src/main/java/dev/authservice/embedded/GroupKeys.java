package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.aggregation.Expression;
import de.bwaldvogel.mongo.bson.Document;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A {@code $group} key computed directly for the shape the auth server's summaries send: a
 * document of field references ({@code "$type"}) and time buckets
 * ({@code {$subtract: ["$time", {$mod: [{$subtract: ["$time", <date>]}, <width>]}]}}). The
 * library evaluates such a key twice per document (its {@code evaluateDocument} evaluates the
 * document, then each value again), parsing every operator's arguments each time: most of a
 * summary's time once the documents are no longer read. This does the library's arithmetic
 * itself, in the library's order and types ({@code $mod} in doubles), for a document whose
 * fields hold what the shape expects; any other key shape, and any document whose values could
 * be read differently (a time that is not a date, a value the library would evaluate again: a
 * document or a string starting with {@code $}), gets the library's own evaluation.
 */
final class GroupKeys {
  private GroupKeys() {}

  static Function<Document, Object> compile(Object idExpression) {
    Function<Document, Object> library = document -> Expression.evaluateDocument(idExpression, document);
    Optional<Parts> parts = parts(idExpression);
    if (parts.isEmpty()) {
      return library;
    }
    Parts compiled = parts.get();
    return document -> {
      Object[] values = new Object[compiled.size()];
      return compiled.valuesInto(document, values) ? compiled.key(values) : library.apply(document);
    };
  }

  /** The key's parts, computed one by one, for a key of the shape this computes directly; else empty. */
  static Optional<Parts> parts(Object idExpression) {
    if (!(idExpression instanceof Document parts) || parts.isEmpty()) {
      return Optional.empty();
    }
    List<String> names = new ArrayList<>(parts.size());
    List<Part> compiled = new ArrayList<>(parts.size());
    for (Map.Entry<String, Object> entry : parts.entrySet()) {
      Part part = Field.of(entry.getValue());
      if (part == null) {
        part = Bucket.of(entry.getValue());
      }
      if (entry.getKey().startsWith("$") || part == null) {
        return Optional.empty();
      }
      names.add(entry.getKey());
      compiled.add(part);
    }
    return Optional.of(new Parts(List.copyOf(names), List.copyOf(compiled)));
  }

  /** A key's parts: each value computed as the library would, then the key document built from them. */
  static final class Parts {
    private final List<String> names;
    private final List<Part> parts;

    private Parts(List<String> names, List<Part> parts) {
      this.names = names;
      this.parts = parts;
    }

    int size() {
      return parts.size();
    }

    /**
     * Each part's value for {@code document} into {@code values} (a missing one as
     * {@link Missing}); false when the document needs the library's evaluation instead.
     */
    boolean valuesInto(Document document, Object[] values) {
      for (int i = 0; i < values.length; i++) {
        Object value = parts.get(i).value(document);
        if (value == AS_THE_LIBRARY_DOES) {
          return false;
        }
        values[i] = value;
      }
      return true;
    }

    /** The key document of these values: the library leaves a missing value out. */
    Document key(Object[] values) {
      Document key = new Document();
      for (int i = 0; i < values.length; i++) {
        if (!(values[i] instanceof Missing)) {
          key.put(names.get(i), values[i]);
        }
      }
      return key;
    }
  }

  /**
   * An accumulator's argument ({@code $sum: <expression>}), for the shapes summaries send: a
   * constant number, {@code "$field"}, or {@code {$ifNull: ["$field", <number>]}}, computed as the
   * library's {@code evaluateDocument} does; any other expression, and any document whose value
   * could be read differently, gets the library's own evaluation.
   */
  static Function<Document, Object> compileValue(Object expression) {
    Function<Document, Object> library = document -> Expression.evaluateDocument(expression, document);
    if (expression instanceof Integer || expression instanceof Long || expression instanceof Double) {
      return document -> expression;
    }
    Field field = Field.of(expression);
    if (field != null) {
      return document -> {
        Object value = field.value(document);
        return value == AS_THE_LIBRARY_DOES ? library.apply(document) : value;
      };
    }
    if (expression instanceof Document d && d.size() == 1 && d.get("$ifNull") instanceof List<?> args
        && args.size() == 2 && Field.of(args.get(0)) instanceof Field f
        && (args.get(1) instanceof Integer || args.get(1) instanceof Long || args.get(1) instanceof Double)) {
      Object fallback = args.get(1);
      return document -> {
        Object value = f.value(document);
        if (value == AS_THE_LIBRARY_DOES) {
          return library.apply(document);
        }
        return value == null || value instanceof Missing ? fallback : value;
      };
    }
    return library;
  }

  /** A document for which a part cannot stand in for the library's evaluation. */
  private static final Object AS_THE_LIBRARY_DOES = new Object();

  private interface Part {
    Object value(Document document);
  }

  /** {@code "$field"}: a top-level field, as the library reads it. */
  private record Field(String name) implements Part {
    static Field of(Object expression) {
      if (expression instanceof String s && s.length() > 1 && s.startsWith("$") && !s.startsWith("$$")
          && s.indexOf('.') < 0) {
        return new Field(s.substring(1).intern());   // as a covered document's names: compared by reference
      }
      return null;
    }

    @Override
    public Object value(Document document) {
      // the library's path lookup, for a top-level name (no dot, not empty): without splitting the name by a regex
      Object value = document.getOrMissing(name);
      // the library's second evaluation would read these as expressions
      return value instanceof Document || (value instanceof String s && s.startsWith("$")) ? AS_THE_LIBRARY_DOES : value;
    }
  }

  /**
   * {@code {$subtract: ["$f", {$mod: [{$subtract: ["$f", <date>]}, <width>]}]}}: the start of the
   * width-long bucket (counted from the date) that a date in {@code f} falls in.
   */
  private record Bucket(String field, long originMillis, Number width) implements Part {
    static Bucket of(Object expression) {
      if (!(single(expression, "$subtract") instanceof List<?> outer) || outer.size() != 2
          || !(Field.of(outer.get(0)) instanceof Field f)
          || !(single(outer.get(1), "$mod") instanceof List<?> mod) || mod.size() != 2
          || !(mod.get(1) instanceof Number width)
          || !(single(mod.get(0), "$subtract") instanceof List<?> inner) || inner.size() != 2
          || !(Field.of(inner.get(0)) instanceof Field g) || !g.name().equals(f.name())
          || !(inner.get(1) instanceof Instant origin)) {
        return null;
      }
      return new Bucket(f.name(), origin.toEpochMilli(), width);
    }

    private static Object single(Object expression, String operator) {
      return expression instanceof Document d && d.size() == 1 ? d.get(operator) : null;
    }

    @Override
    public Object value(Document document) {
      if (!(document.get(field) instanceof Instant time)) {
        return AS_THE_LIBRARY_DOES;
      }
      // as the library: $subtract of two dates is a long, $mod divides as doubles, and
      // $subtract of a number from a date takes the number's long value
      long sinceOrigin = time.toEpochMilli() - originMillis;
      double remainder = (double) sinceOrigin % width.doubleValue();
      return Instant.ofEpochMilli(time.toEpochMilli() - Double.valueOf(remainder).longValue());
    }
  }
}
