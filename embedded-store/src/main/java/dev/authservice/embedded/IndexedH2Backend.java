package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.h2.mvstore.MVStore;

/** The library's H2 backend with {@link IndexedH2Database}s: BSON on disk, ordered and secondary indexes. */
final class IndexedH2Backend extends H2Backend {
  /** Every database opened; no initializer, since the superclass constructor opens some before this class's fields are set. */
  private java.util.List<IndexedH2Database> opened;

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

  /** Cursors of one database that still hold a walk (and the version it reads). */
  int openWalks(String databaseName) {
    return resolveDatabase(databaseName) instanceof IndexedH2Database database ? database.openWalks() : 0;
  }

  @Override
  protected MongoDatabase openOrCreateDatabase(String databaseName) {
    // runs from the superclass constructor too, so it may use only what the superclass holds
    IndexedH2Database database = new IndexedH2Database(databaseName, getMvStore(), getCursorRegistry());
    synchronized (this) {
      if (opened == null) {
        opened = new java.util.ArrayList<>();
      }
      opened.add(database);
    }
    return database;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (opened != null) {
        opened.forEach(IndexedH2Database::closeWalks);
      }
    }
    super.close();
  }
}
