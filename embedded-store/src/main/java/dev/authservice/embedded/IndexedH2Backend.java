package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.h2.mvstore.MVStore;

/** The library's H2 backend with {@link IndexedH2Database}s: BSON on disk, ordered and secondary indexes. */
final class IndexedH2Backend extends H2Backend {
  IndexedH2Backend(MVStore mvStore) {
    super(mvStore);
  }

  /**
   * How many documents queries on one collection have examined since the store started (0 for
   * a collection not opened yet): what tells an index walk that stopped at its limit from a scan.
   */
  long documentsExamined(String databaseName, String collectionName) {
    return resolveDatabase(databaseName).resolveCollection(collectionName, false) instanceof IndexedH2Collection c
        ? c.documentsExamined() : 0;
  }

  @Override
  protected MongoDatabase openOrCreateDatabase(String databaseName) {
    // runs from the superclass constructor too, so it may use only what the superclass holds
    return new IndexedH2Database(databaseName, getMvStore(), getCursorRegistry());
  }
}
