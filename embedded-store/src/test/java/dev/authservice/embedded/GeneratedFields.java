package dev.authservice.embedded;

import de.bwaldvogel.mongo.bson.Document;

/** For generated documents: a value that stands for a field left out, as distinct from a null one. */
final class GeneratedFields {
  /** Generated in place of a value: the field is left out of the document. */
  static final Object MISSING = new Object();

  private GeneratedFields() {}

  /** Puts the field, unless its value is {@link #MISSING}. */
  static void put(Document document, String field, Object value) {
    if (value != MISSING) {
      document.put(field, value);
    }
  }
}
