package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;

/** An index whose keys can be walked in order between two bounds: what range queries and sorts need. */
interface OrderedIndex {
  String getName();

  List<IndexKey> getKeys();

  /** Whether its entries may stand for the documents in a covered read ({@link CoverableFlags}). */
  boolean coverable();

  /** Whether some document has several entries (an array value), so a walk may meet it twice. */
  default boolean multikey() {
    return !multikeyPaths().isEmpty();
  }

  /** The fields through which some document has several entries (arrays of several values). */
  java.util.Set<String> multikeyPaths();

  /** Whether documents lacking every key are left out, so that a walk of the whole index misses them. */
  boolean sparse();

  /** Entries with {@code lower <= key <= upper}, ascending, or descending when {@code reverse}. */
  Iterator<Map.Entry<KeyValue, Object>> scan(KeyValue lower, KeyValue upper, boolean reverse);

  static Iterator<Map.Entry<KeyValue, Object>> scan(MVMap<KeyValue, Object> map, KeyValue lower, KeyValue upper,
      boolean reverse) {
    Cursor<KeyValue, Object> cursor = reverse ? map.cursor(upper, lower, true) : map.cursor(lower, upper, false);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return cursor.hasNext();
      }

      @Override
      public Map.Entry<KeyValue, Object> next() {
        KeyValue key = cursor.next();
        return Map.entry(key, cursor.getValue());
      }
    };
  }
}
