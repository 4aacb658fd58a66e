package dev.authservice.server.storage.mongo;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import dev.authservice.server.storage.WriteBarrier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MongoDB-wire server (mongo-java-server) on a loopback ephemeral port, keeping its data in
 * an H2 MVStore file in the data directory. The service reaches it through the ordinary
 * MongoDB driver, exactly as it would a real deployment.
 *
 * <p>The MVStore commits on its own only every second or so; {@link #commitAndSync()} is the
 * {@link WriteBarrier} that makes an acknowledged write survive a crash.
 */
public final class EmbeddedMongo implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedMongo.class);
  public static final String FILE_NAME = "embedded-mongo.mv.db";

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

  /** Starts on a given loopback port, 0 for any free one. */
  public static EmbeddedMongo start(Path dataDir, int port) {
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + dataDir, e);
    }
    Path file = dataDir.resolve(FILE_NAME).toAbsolutePath();
    MVStore mvStore = new MVStore.Builder().fileName(file.toString()).open();
    MongoServer server = new MongoServer(new H2Backend(mvStore));
    server.bind("127.0.0.1", port);
    return new EmbeddedMongo(mvStore, server, server.getLocalAddress(), file);
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
