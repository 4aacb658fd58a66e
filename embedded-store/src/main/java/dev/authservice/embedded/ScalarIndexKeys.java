package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.Document;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * An index's key of one document, computed directly in the common case: every key of the index
 * is a top-level field and the document holds a scalar (or nothing) in each. The library's
 * general path splits each key path with a regular expression, builds maps and streams, and runs
 * on every insert for every index, which profiles showed costing more than the B-tree insert
 * itself. The values come out exactly as the library's {@code Index.getKeyValues} makes them:
 * missing and null as null, every number as a double (negative zero as zero) unless it is a long
 * a double cannot hold. A document with an array or an embedded document in a key, or an index
 * over a dotted path, gets null here and takes the library's path.
 */
final class ScalarIndexKeys {
  private final String[] fields;

  private ScalarIndexKeys(String[] fields) {
    this.fields = fields;
  }

  /** For these index keys; null when some key is a dotted path, which this never handles. */
  static ScalarIndexKeys forKeys(List<IndexKey> keys) {
    String[] fields = keys.stream().map(IndexKey::getKey).toArray(String[]::new);
    return Arrays.stream(fields).anyMatch(field -> field.indexOf('.') >= 0) ? null : new ScalarIndexKeys(fields);
  }

  /** The document's values for the index keys, or null when one is an array or a document. */
  Object[] valuesOf(Document document) {
    Object[] values = new Object[fields.length];
    for (int i = 0; i < fields.length; i++) {
      Object value = document.get(fields[i]);
      if (value instanceof Collection<?> || value instanceof Map<?, ?>) {
        return null;
      }
      values[i] = normalized(value);
    }
    return values;
  }

  /**
   * The document's values for the index keys as stored (missing as null), or null when one is an
   * array or a document: what a secondary index keeps, so that its entries give back what the
   * document holds ({@link CoveredRead}). They order exactly as {@link #valuesOf} (MongoDB
   * compares numbers by value, whatever their type), so entries of either kind mix in one index.
   */
  Object[] storedValuesOf(Document document) {
    Object[] values = new Object[fields.length];
    for (int i = 0; i < fields.length; i++) {
      Object value = document.get(fields[i]);
      if (value instanceof Collection<?> || value instanceof Map<?, ?>) {
        return null;
      }
      values[i] = Missing.isNullOrMissing(value) ? null : value;
    }
    return values;
  }

  /** Whether the document holds none of the fields: what keeps it out of a sparse index. */
  boolean noneIn(Document document) {
    for (String field : fields) {
      if (document.containsKey(field)) {
        return false;
      }
    }
    return true;
  }

  /** As the library's {@code Utils.normalizeValue} does it for a scalar. */
  static Object normalized(Object value) {
    if (Missing.isNullOrMissing(value)) {
      return null;
    }
    if (value instanceof Long l && l.longValue() != (long) l.doubleValue()) {
      return value;
    }
    if (value instanceof Number n) {
      double d = n.doubleValue();
      return d == 0.0 ? 0.0 : d;   // -0.0 == 0.0 too: both become positive zero
    }
    return value;
  }

  static KeyValue keyOf(Object[] values) {
    return new KeyValue(values);
  }
}
