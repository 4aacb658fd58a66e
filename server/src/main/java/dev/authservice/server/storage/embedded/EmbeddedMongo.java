package dev.authservice.server.storage.embedded;

import de.bwaldvogel.mongo.MongoServer;
import dev.authservice.server.storage.WriteBarrier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.h2.mvstore.MVStore;

/**
 * A MongoDB-wire server (mongo-java-server) on a loopback ephemeral port, keeping its data in
 * an H2 MVStore file in the data directory. The service reaches it through the ordinary
 * MongoDB driver, exactly as it would a real deployment. Its backend ({@link IndexedH2Backend})
 * builds the indexes the service creates, so queries walk an index instead of the collection.
 *
 * <p>The MVStore commits on its own only every second or so; {@link #commitAndSync()} is the
 * {@link WriteBarrier} that makes an acknowledged write survive a crash.
 */
public final class EmbeddedMongo implements AutoCloseable {
  public static final String FILE_NAME = "embedded-store.mv.db";

  private final MVStore mvStore;
  private final MongoServer server;
  private final InetSocketAddress address;
  private final Path file;

  private EmbeddedMongo(MVStore mvStore, MongoServer server, InetSocketAddress address, Path file) {
    this.mvStore = mvStore;
    this.server = server;
    this.address = address;
    this.file = file;
  }

  public static EmbeddedMongo start(Path dataDir) {
    return start(dataDir, 0);
  }

  /** Starts on a given loopback port, 0 for any free one; first brings over a store of an earlier version. */
  public static EmbeddedMongo start(Path dataDir, int port) {
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + dataDir, e);
    }
    Path file = dataDir.resolve(FILE_NAME).toAbsolutePath();
    boolean fresh = !Files.exists(file);
    MVStore mvStore = new MVStore.Builder().fileName(file.toString()).open();
    MongoServer server = new MongoServer(new IndexedH2Backend(mvStore));
    server.bind("127.0.0.1", port);
    EmbeddedMongo embedded = new EmbeddedMongo(mvStore, server, server.getLocalAddress(), file);
    if (fresh) {
      LegacyStoreMigration.migrateInto(dataDir, embedded);
    }
    return embedded;
  }

  public int port() {
    return address.getPort();
  }

  public String connectionString() {
    return "mongodb://127.0.0.1:" + address.getPort() + "/?directConnection=true";
  }

  public Path file() {
    return file;
  }

  /** Commits the MVStore and forces it to disk. */
  public synchronized void commitAndSync() {
    mvStore.commit();
    mvStore.sync();
  }

  public WriteBarrier writeBarrier() {
    return this::commitAndSync;
  }

  @Override
  public void close() {
    server.shutdownNow();
    // shutting the server down closes its backend, which commits; close here only if it did not
    if (!mvStore.isClosed()) {
      mvStore.close();
    }
  }
}
