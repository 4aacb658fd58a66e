package dev.authservice.embedded;

import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.time.Instant;
import org.h2.mvstore.MVMap;

/**
 * Which indexes can stand for their documents in a covered read ({@link CoveredRead}): those that
 * have held, since they were built empty, only values an entry gives back as the document holds
 * them. One array (even of one element, which leaves a single entry), embedded document or value
 * of another kind (a decimal, a binary, a timestamp...) in an indexed field clears the flag for
 * good. An index built before this flag existed has none, so it is never covered: its past is
 * unknown. Kept in the store, since it must hold across restarts.
 */
final class CoverableFlags {
  private final MVMap<String, Boolean> flags;

  CoverableFlags(MVMap<String, Boolean> flags) {
    this.flags = flags;
  }

  /** An index opened over an empty map starts coverable: nothing it holds says otherwise. */
  void opened(String indexMap, boolean empty) {
    if (empty && !Boolean.TRUE.equals(flags.get(indexMap))) {
      flags.put(indexMap, Boolean.TRUE);
    }
  }

  boolean isCoverable(String indexMap) {
    return Boolean.TRUE.equals(flags.get(indexMap));
  }

  /** After a document entered the index: clears the flag when one of its indexed values cannot be given back. */
  void entered(String indexMap, Document document, Iterable<String> fields) {
    if (!isCoverable(indexMap)) {
      return;
    }
    for (String field : fields) {
      if (!givenBack(document.get(field))) {
        flags.put(indexMap, Boolean.FALSE);
        return;
      }
    }
  }

  /** Missing and null are fine here: an entry holding null reads its document. */
  private static boolean givenBack(Object value) {
    return value == null || value instanceof String || value instanceof Instant || value instanceof Boolean
        || value instanceof ObjectId || value instanceof Double || value instanceof Long || value instanceof Integer;
  }
}
