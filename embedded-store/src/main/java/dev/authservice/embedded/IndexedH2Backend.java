package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.h2.mvstore.MVStore;

/** The library's H2 backend with {@link IndexedH2Database}s: BSON on disk, ordered and secondary indexes. */
final class IndexedH2Backend extends H2Backend {
  IndexedH2Backend(MVStore mvStore) {
    super(mvStore);
  }

  @Override
  protected MongoDatabase openOrCreateDatabase(String databaseName) {
    // runs from the superclass constructor too, so it may use only what the superclass holds
    return new IndexedH2Database(databaseName, getMvStore(), getCursorRegistry());
  }
}
