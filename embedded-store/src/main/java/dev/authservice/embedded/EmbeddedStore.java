package dev.authservice.embedded;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import de.bwaldvogel.mongo.MongoBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MongoDB-wire server (mongo-java-server) on a loopback ephemeral port, keeping its data in
 * one H2 MVStore file in a data directory. Clients reach it through the ordinary MongoDB driver,
 * exactly as they would a real deployment. Its backend ({@link IndexedH2Backend}) builds the
 * indexes clients create, so queries walk an index instead of the collection.
 *
 * <p>Only the process that started it can use it: every connection must authenticate with
 * SCRAM-SHA-256 ({@link AuthenticatingBackend}) as a user whose random password is made at each
 * start and kept in memory only ({@link #credential()}); the data directory and its files are
 * for the OS user only ({@link PrivateFiles}).
 *
 * <p>The MVStore commits on its own only every second or so: a client that needs an
 * acknowledged write to survive a crash calls {@link #commitAndSync()} after it (MongoDB's
 * journaled write concern, which this store does not honour by itself).
 */
public final class EmbeddedStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);
  public static final String FILE_NAME = "embedded-store.mv.db";
  /** Where {@link #writeUriFile()} puts a connection string with the credential, for tools of the same OS user. */
  public static final String URI_FILE_NAME = "embedded-store.uri";
  private static final String HOST = "127.0.0.1";
  private static final String USERNAME = "auth-server";
  private static final String AUTHENTICATION_DATABASE = "admin";
  /**
   * The MVStore's background compaction target, in percent of live data in the file's chunks
   * (the library's default is 90). Every commit copies the changed pages into a new chunk, so under
   * a steady stream of audit writes the older chunks keep thinning; at 90 the store's background
   * thread keeps reading those chunks back and rewriting their live pages while the server is
   * busy (the library rewrites while busy when 50 + half the chunks' fill rate falls below the
   * square of this rate over 100). Measured under QueryAudit load on 100k events, that rewriting
   * was 62% of everything the server allocated and a fifth of its CPU, and its pages, promoted
   * before they died, filled the old generation. At 50 the busy threshold (25%) is never reached:
   * chunks are rewritten only when the store is idle, up to a fill rate of 50%, and the file is
   * moved together when less than half of it is live. The price is disk: up to about twice the
   * live data when idle, more during long busy stretches.
   */
  static final int COMPACT_FILL_RATE = 50;
  /**
   * The MVStore's page cache, in MiB as the library estimates pages (about twice their real size
   * for index pages, whose repeated strings are shared: {@link CanonicalStrings}); the library's
   * default is 16. A page read from disk stays in the cache, so it survives the young collections
   * that come while it is cached and is promoted; a walk larger than the cache (a summary over
   * 100k events reads about 25 MiB of index pages) then pushes the cache's whole content through
   * the old generation on every call. At 16 MiB (about 8 MiB of real pages) that was more than
   * the 96 MiB heap's old generation could take besides the live data: measured after a bulk
   * insert, five full collections a second and summaries of 400–450 ms. At 8 MiB what a walk
   * leaves cached fits in the young generation's survivor space and dies there, and the pages
   * reads keep needing (the B-trees' upper levels, the newest leaves) still fit
   * (docs/benchmarks.md, "SummarizeAudit after a bulk insert").
   */
  static final int PAGE_CACHE_MIB = 8;
  /**
   * Keys per B-tree page before it splits (the library's default is 48). The audit trail committed
   * after every batch of events, a few hundred times a second under load, when this was measured
   * (it now journals them and commits about once a second), and each commit writes
   * every page it changed whole: the newest leaf of each of the collection's indexes, the leaves
   * a random key (a token id) lands in, and their parents. Smaller pages make each of those
   * writes smaller. Measured against 48 on fresh servers in the same minutes, 100k events seeded
   * (docs/benchmarks.md, "Pages of 24 keys"): Validate in audit mode every 5–25% faster, with
   * one token and with 200, about 10% less written to the file; QueryAudit and SummarizeAudit
   * unchanged within the noise. 16 was as fast for Validate but slower for summaries, whose walk
   * reads more pages.
   */
  static final int KEYS_PER_PAGE = 24;
  /** How often pooled write buffers a large commit grew are given back ({@link WriteBufferTrim}). */
  private static final long TRIM_INTERVAL_MILLIS = 1_000;

  private final MVStore mvStore;
  private final WireServer server;
  private final InetSocketAddress address;
  private final Path file;
  private final MongoCredential credential;
  private final IndexedH2Backend backend;
  private final WriteBufferTrim writeBuffers;
  private final ScheduledExecutorService housekeeping;
  private boolean closed;

  private EmbeddedStore(MVStore mvStore, WireServer server, InetSocketAddress address, Path file,
      MongoCredential credential, IndexedH2Backend backend) {
    this.backend = backend;
    this.writeBuffers = WriteBufferTrim.of(mvStore);
    this.housekeeping = Executors.newSingleThreadScheduledExecutor(
        task -> Thread.ofPlatform().name("embedded-store-housekeeping").daemon(true).unstarted(task));
    housekeeping.scheduleWithFixedDelay(writeBuffers::trim, TRIM_INTERVAL_MILLIS, TRIM_INTERVAL_MILLIS,
        TimeUnit.MILLISECONDS);
    this.mvStore = mvStore;
    this.server = server;
    this.address = address;
    this.file = file;
    this.credential = credential;
  }

  public static EmbeddedStore start(Path dataDir) {
    return start(dataDir, 0);
  }

  /** Starts on a given loopback port, 0 for any free one, with a new random credential. */
  public static EmbeddedStore start(Path dataDir, int port) {
    return start(dataDir, port, randomCredential());
  }

  /**
   * Starts on a given loopback port, 0 for any free one, reachable with the given credential (a
   * restart that clients holding the earlier credential can reconnect to); first brings over a
   * store of an earlier version.
   */
  public static EmbeddedStore start(Path dataDir, int port, MongoCredential credential) {
    PrivateFiles.secureDirectory(dataDir);
    Path file = dataDir.resolve(FILE_NAME).toAbsolutePath();
    boolean fresh = !Files.exists(file);
    // created for its owner only before the MVStore opens it (an empty file is a new store to it)
    PrivateFiles.secureFile(file);
    // the SCRAM key derivation (a cold JVM's slowest 4,096 HMAC rounds) on the other core while
    // the file opens; the store listens only once both are done
    CompletableFuture<ScramSha256Server> scram = CompletableFuture.supplyAsync(
        () -> AuthenticatingBackend.scramServer(credential),
        task -> Thread.ofPlatform().name("embedded-store-scram").daemon(true).start(task));
    MVStore mvStore = new MVStore.Builder().fileName(file.toString()).autoCompactFillRate(COMPACT_FILL_RATE)
        .cacheSize(PAGE_CACHE_MIB).keysPerPage(KEYS_PER_PAGE).open();
    IndexedH2Backend backend;
    MongoBackend guarded;
    try {
      // only now that this process holds the store's lock: a second start on a directory in use
      // fails above and must not take the running store's file away from its tools
      removeUriFile(dataDir);
      backend = new IndexedH2Backend(mvStore);
      guarded = AuthenticatingBackend.guarding(backend, join(scram), ConnectionMarker.of(credential));
    } catch (RuntimeException e) {
      mvStore.close();
      throw e;
    }
    WireServer server;
    try {
      server = WireServer.bind(guarded, HOST, port);
    } catch (RuntimeException e) {
      // as the library's server did: a store that cannot listen is closed, not left open
      guarded.close();
      if (!mvStore.isClosed()) {
        mvStore.close();
      }
      throw e;
    }
    EmbeddedStore embedded = new EmbeddedStore(mvStore, server, server.localAddress(), file, credential, backend);
    log.info("embedded store listening on {}:{} (SCRAM-SHA-256; the credential is made at each start and held in"
        + " memory only)", HOST, embedded.port());
    if (fresh) {
      LegacyStoreMigration.migrateInto(dataDir, embedded);
    }
    return embedded;
  }

  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** A SCRAM-SHA-256 credential with 256 random bits of password. */
  static MongoCredential randomCredential() {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    // base64url: no character that a connection string would need escaped, and SASLprep leaves it as it is
    char[] password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret).toCharArray();
    return MongoCredential.createScramSha256Credential(USERNAME, AUTHENTICATION_DATABASE, password);
  }

  /** Client settings for a store on this address with this credential, its connections marked as the store's own. */
  static MongoClientSettings clientSettings(InetSocketAddress address, MongoCredential credential) {
    return MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString(connectionString(address)))
        .credential(credential)
        .applicationName(ConnectionMarker.of(credential).mark("embedded-store client"))
        .build();
  }

  /**
   * {@code name} marked as a client of this store's own: a client that sends it as its
   * application name (the driver's {@code applicationName}) has its connections, monitors
   * included, exempt from the bound on unauthenticated connections, so a local flood of those
   * cannot cut it off from the store. In-process use only, like the credential it comes from.
   */
  public String applicationName(String name) {
    return ConnectionMarker.of(credential).mark(name);
  }

  private static String connectionString(InetSocketAddress address) {
    return "mongodb://" + HOST + ":" + address.getPort() + "/?directConnection=true";
  }

  /**
   * How many documents queries on one collection have read and matched since this start:
   * an index walk that stops at its limit reads about the limit, a scan reads the collection.
   * For tests and diagnostics; asking about a database opens it.
   */
  public long documentsExamined(String database, String collection) {
    return backend.documentsExamined(database, collection);
  }

  /** Connections open now that count against the bound on unauthenticated ones (for tests). */
  int unauthenticatedConnections() {
    return server.unauthenticatedConnections();
  }

  /** Cursors of a database that clients have not read to the end nor killed (each holds its walk's pages). */
  int openWalks(String database) {
    return backend.openWalks(database);
  }

  public int port() {
    return address.getPort();
  }

  /** Where the store listens; it holds no secret (the credential goes separately, see {@link #credential()}). */
  public String connectionString() {
    return connectionString(address);
  }

  /** The credential every connection must present. In-process use only: never log or store it. */
  public MongoCredential credential() {
    return credential;
  }

  /** Settings for an in-process client of this store: its address and its credential. */
  public MongoClientSettings clientSettings() {
    return clientSettings(address, credential);
  }

  /**
   * A connection string carrying the credential, for in-process clients that take a URI (a test
   * harness standing in for MONGODB_URI) and for {@link #writeUriFile()}. Never log it.
   */
  public String uriWithCredential() {
    return "mongodb://" + URLEncoder.encode(credential.getUserName(), StandardCharsets.UTF_8) + ":"
        + URLEncoder.encode(new String(credential.getPassword()), StandardCharsets.UTF_8) + "@" + HOST + ":"
        + address.getPort() + "/?authSource=" + AUTHENTICATION_DATABASE + "&authMechanism="
        + ScramSha256Server.MECHANISM + "&directConnection=true&appName="
        + URLEncoder.encode(applicationName("embedded-store client"), StandardCharsets.UTF_8);
  }

  /**
   * Writes {@link #uriWithCredential()} to {@value #URI_FILE_NAME} in the data directory (0600 in
   * a 0700 directory), for tools run as the server's OS user, who can read the store's files
   * anyway. Removed when the store closes, and at the next start.
   */
  public Path writeUriFile() {
    Path uriFile = file.resolveSibling(URI_FILE_NAME);
    PrivateFiles.secureFile(uriFile);
    try {
      Files.writeString(uriFile, uriWithCredential() + "\n", StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + uriFile, e);
    }
    log.info("wrote the embedded store's connection string, credential included, to {} (AUTH_EMBEDDED_STORE_URI_FILE)",
        uriFile);
    return uriFile;
  }

  private static void removeUriFile(Path dataDir) {
    try {
      Files.deleteIfExists(dataDir.resolve(URI_FILE_NAME));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the stale " + dataDir.resolve(URI_FILE_NAME), e);
    }
  }

  public Path file() {
    return file;
  }

  /** The MVStore itself, for tests of this package that look at its file. */
  MVStore mvStore() {
    return mvStore;
  }

  /** The capacity of the MVStore's largest pooled write buffer (-1 if unknown): what {@link WriteBufferTrim} bounds. */
  int largestPooledWriteBuffer() {
    return writeBuffers.largestPooledCapacity();
  }

  /** Commits the MVStore and forces it to disk: every write acknowledged before the call survives a crash. */
  public synchronized void commitAndSync() {
    mvStore.commit();
    mvStore.sync();
  }

  /**
   * Stops at once, as a crash would: the file keeps only what was committed before the call, and
   * nothing is committed after it. For crash tests of what clients build on this store.
   */
  public synchronized void halt() {
    if (closed) {
      return;
    }
    closed = true;
    housekeeping.shutdownNow();
    mvStore.closeImmediately();
    // the backend's close finds its store closed and commits nothing
    server.shutdownNow();
  }

  /** Stops the server and closes the file; a second call does nothing. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    housekeeping.shutdownNow();
    server.shutdownNow();
    // shutting the server down closes its backend, which commits; close here only if it did not
    if (!mvStore.isClosed()) {
      mvStore.close();
    }
    removeUriFile(file.getParent());
  }
}
