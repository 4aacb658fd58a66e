package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A pipeline that opens with {@code $match} then an inclusion {@code $project} reads only the
 * fields those two name; when an index holds all of them, its entries can stand for the
 * documents (MongoDB's covered read, PROJECTION_COVERED): the entry's values as a document go
 * through the same matcher and the same projection as the document would, and the document is
 * never read. This decides when that gives the document's answer, and builds those documents.
 *
 * <p>An entry stands for its document only when it holds what the document holds: the index
 * saw no array, embedded document or other value it cannot give back as stored
 * ({@link CoverableFlags}), it is not sparse, its keys are top-level fields, and the entry's
 * values are plain (a null may be a missing field, MinKey an empty array: such an entry reads its
 * document). A secondary index keeps values as stored, numbers with their type
 * ({@link ScalarIndexKeys#storedValuesOf}). The match may use only conditions that decide by a
 * field's value ({@code $type}, {@code $expr} and the like read the document), so that the
 * answer cannot depend on anything but what the entry holds.
 */
final class CoveredRead {
  private static final String ID = "_id";
  /** Operators that decide by value alone; a condition with any other reads the document. */
  private static final Set<String> BY_VALUE = Set.of("$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte",
      "$exists", "$not");
  private static final Set<String> LOGICAL = Set.of("$and", "$or", "$nor");

  private final List<String> fields;

  private CoveredRead(List<String> fields) {
    this.fields = fields;
  }

  /**
   * The fields a {@code $match} and the inclusion {@code $project} after it read from each
   * document, or empty when the pair cannot be answered from index entries.
   */
  static Optional<Set<String>> fieldsRead(Document match, Object project) {
    if (!(project instanceof Document projection) || projection.isEmpty()) {
      return Optional.empty();
    }
    Set<String> read = new HashSet<>();
    boolean withId = true;
    for (Map.Entry<String, Object> field : projection.entrySet()) {
      String name = field.getKey();
      if (name.startsWith("$") || name.indexOf('.') >= 0) {
        return Optional.empty();
      }
      if (name.equals(ID) && !truthy(field.getValue())) {
        withId = false;
      } else if (truthy(field.getValue()) && isOne(field.getValue())) {
        read.add(name);
      } else {
        // an exclusion (keeps every other field) or an expression
        return Optional.empty();
      }
    }
    if (withId) {
      read.add(ID);
    }
    return collectMatchFields(match, read) ? Optional.of(read) : Optional.empty();
  }

  /** For walks of {@code index}, when its entries hold every field in {@code read}. */
  static Optional<CoveredRead> over(OrderedIndex index, Set<String> read) {
    if (!index.coverable() || index.sparse() || index.multikey()) {
      return Optional.empty();
    }
    List<String> keys = index.getKeys().stream().map(IndexKey::getKey).toList();
    if (keys.stream().anyMatch(key -> key.indexOf('.') >= 0)) {
      return Optional.empty();
    }
    Set<String> held = new HashSet<>(keys);
    held.add(ID);
    return held.containsAll(read) ? Optional.of(new CoveredRead(keys)) : Optional.empty();
  }

  /**
   * Whether the entry holds its document's values (else the document is read instead): one per
   * index key and {@code _id}, each as stored.
   */
  boolean holdsAsStored(KeyValue entry) {
    if (entry.size() != fields.size() + 1) {
      return false;
    }
    for (int i = 0; i <= fields.size(); i++) {
      if (!asStored(entry.get(i))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Where an entry holds the named field: its index key's place, or the last for {@code _id}
   * (an index whose keys name {@code _id}, as the server's all do, holds it twice: the same value).
   * -1 when the entry does not hold it.
   */
  int position(String name) {
    int key = fields.indexOf(name);
    return key >= 0 ? key : name.equals(ID) ? fields.size() : -1;
  }

  /**
   * Values an index entry holds exactly as the document does (numbers: by value). Null is not
   * one (it stands for a missing field too), nor MinKey (an empty array).
   */
  static boolean asStored(Object value) {
    return value instanceof String || value instanceof Instant || value instanceof Boolean
        || value instanceof ObjectId || value instanceof Double || value instanceof Long || value instanceof Integer;
  }

  private static boolean collectMatchFields(Document query, Set<String> read) {
    for (Map.Entry<String, Object> entry : query.entrySet()) {
      String key = entry.getKey();
      if (LOGICAL.contains(key)) {
        if (!(entry.getValue() instanceof Collection<?> parts)) {
          return false;
        }
        for (Object part : parts) {
          if (!(part instanceof Document d) || !collectMatchFields(d, read)) {
            return false;
          }
        }
      } else if (key.startsWith("$") || key.indexOf('.') >= 0 || !byValue(entry.getValue())) {
        return false;
      } else {
        read.add(key);
      }
    }
    return true;
  }

  /** A condition on one field that decides by the field's value: equality, or operators of {@link #BY_VALUE}. */
  private static boolean byValue(Object condition) {
    if (!(condition instanceof Document d) || d.isEmpty() || !d.keySet().iterator().next().startsWith("$")) {
      return true;
    }
    for (Map.Entry<String, Object> op : d.entrySet()) {
      if (!BY_VALUE.contains(op.getKey())) {
        return false;
      }
      if (op.getKey().equals("$not") && !byValue(op.getValue())) {
        return false;
      }
    }
    return true;
  }

  /** A projection's value as the library reads it: a boolean, or a number other than 0. */
  static boolean truthy(Object value) {
    return value instanceof Boolean b ? b : value instanceof Number n && n.doubleValue() != 0;
  }

  private static boolean isOne(Object value) {
    return value instanceof Boolean || value instanceof Number;
  }
}
