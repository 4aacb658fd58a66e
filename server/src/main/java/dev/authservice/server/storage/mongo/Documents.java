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

  static String string(Document doc, String field) {
    String value = doc.getString(field);
    return value == null ? "" : value;
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
