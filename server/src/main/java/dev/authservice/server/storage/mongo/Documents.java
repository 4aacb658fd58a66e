package dev.authservice.server.storage.mongo;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import java.util.Date;
import java.time.Instant;
import org.bson.Document;

/** Small helpers shared by the Mongo stores. */
final class Documents {
  private Documents() {}

  static boolean isDuplicateKey(MongoWriteException e) {
    return e.getError().getCategory() == ErrorCategory.DUPLICATE_KEY;
  }

  /**
   * A value as text: empty when absent, a value of another type (an edit) as it reads, never a
   * failed read.
   */
  static String text(Object value) {
    return value == null ? "" : value instanceof String text ? text : String.valueOf(value);
  }

  /** A value as an instant: the epoch when it is not a date (absent, or an edit), never a failed read. */
  static Instant instantOrEpoch(Object value) {
    return value instanceof Date date ? date.toInstant() : Instant.EPOCH;
  }

  static Instant instant(Document doc, String field) {
    Date date = doc.getDate(field);
    return date == null ? Instant.EPOCH : date.toInstant();
  }

  /** Puts the field only when non-empty, so documents carry what is known and nothing else. */
  static void putIfPresent(Document doc, String field, String value) {
    if (value != null && !value.isEmpty()) {
      doc.append(field, value);
    }
  }
}
