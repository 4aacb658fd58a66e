package dev.authservice.server;

import dev.authservice.embedded.EmbeddedStore;
import dev.authservice.embedded.PrivateFiles;
import dev.authservice.server.audit.write.EventWrites;
import dev.authservice.server.audit.write.JournaledEventWrites;
import dev.authservice.server.audit.write.MvStoreAuditSpool;
import dev.authservice.server.storage.mongo.EarlierSpoolFormat;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where the server keeps its data: MongoDB at {@code MONGODB_URI}, or else the embedded store
 * started here in the data directory; and the audit spool beside it. The only place that knows
 * the embedded store: the storage adapters see a connection string, a credential and a write
 * barrier, whichever store it is.
 */
final class StorageBootstrap {
  private StorageBootstrap() {}

  static MongoStorage open(Optional<String> mongoUri, Path dataDir, String databaseName, Duration timeout,
      String applicationName) {
    return open(mongoUri, dataDir, databaseName, timeout, applicationName, false);
  }

  /**
   * Connects to {@code mongoUri}, or starts the embedded store and connects to it; with
   * {@code embeddedUriFile}, the embedded store then writes its connection string, credential
   * included, into the data directory for tools of the same OS user (once it is ready, so a tool
   * that waits for the file finds a store with its indexes).
   */
  static MongoStorage open(Optional<String> mongoUri, Path dataDir, String databaseName, Duration timeout,
      String applicationName, boolean embeddedUriFile) {
    if (mongoUri.isPresent()) {
      return MongoStorage.open(MongoStorage.Connection.to(mongoUri.get()), databaseName, timeout, applicationName);
    }
    requireNoDataBeside(dataDir);
    EmbeddedStore embedded = EmbeddedStore.start(dataDir);
    MongoStorage storage;
    try {
      storage = MongoStorage.open(MongoStorage.Connection.to(embedded.connectionString())
          // the store's credential goes beside its connection string, never into it
          .withCredential(embedded.credential())
          // it commits to its file only every second or so on its own; audit events are made
          // durable by their journal instead (auditJournal), the other writes by a commit
          .withWriteBarrier(embedded::commitAndSync)
          .describedAs("embedded store " + embedded.file())
          .closing(embedded), databaseName, timeout,
          // marked as the store's own: a local flood of unauthenticated connections cannot cut it off
          embedded.applicationName(applicationName));
    } catch (RuntimeException e) {
      embedded.close();
      throw e;
    }
    if (embeddedUriFile) {
      try {
        embedded.writeUriFile();
      } catch (RuntimeException e) {
        storage.close();
        throw e;
      }
    }
    return storage;
  }

  /**
   * The embedded store's audit journal in the data directory, after restoring into the store what
   * an unclean stop left in it.
   */
  static JournaledEventWrites auditJournal(EventWrites store, Path dataDir) {
    requireNoDataBeside(dataDir);
    PrivateFiles.secureDirectory(dataDir);
    return JournaledEventWrites.open(store, dataDir);
  }

  /**
   * The audit spool in the data directory, whose file is created for the server's OS user only
   * before the MVStore opens it (an empty file is a new store to it); events an earlier version
   * spooled are kept.
   */
  static MvStoreAuditSpool auditSpool(Path dataDir) {
    requireNoDataBeside(dataDir);
    PrivateFiles.secureDirectory(dataDir);
    PrivateFiles.secureFile(dataDir.resolve(MvStoreAuditSpool.FILE_NAME));
    return MvStoreAuditSpool.open(dataDir, Optional.of(EarlierSpoolFormat::read));
  }

  /**
   * Refuses to make a new data directory beside a server's data files: the data directory moved
   * (the container image used {@code /data} itself before {@code /data/auth}), and starting in an
   * empty one would begin with an empty embedded store (its users, keys and trail out of sight)
   * and leave a spool of events unreplayed.
   */
  static void requireNoDataBeside(Path dataDir) {
    Path parent = dataDir.toAbsolutePath().getParent();
    if (Files.exists(dataDir) || parent == null) {
      return;
    }
    List<String> found = Stream.of(EmbeddedStore.FILE_NAME, MvStoreAuditSpool.FILE_NAME)
        .filter(name -> Files.exists(parent.resolve(name))).toList();
    if (!found.isEmpty()) {
      throw new IllegalStateException("the data directory " + dataDir + " does not exist, but " + parent
          + " holds a data directory's files (" + String.join(", ", found) + "): the data directory has moved (the"
          + " container image used /data before /data/auth). Move every file of " + parent + " that the server made"
          + " into " + dataDir + " (created 0700 for the server's user), or set AUTH_DATA_DIR=" + parent + " if that"
          + " directory belongs to the server's user; starting afresh would leave that store and spool behind");
    }
  }
}
