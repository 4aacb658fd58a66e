package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.Document;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * One connection's long command holds no other connection: the embedded store's listener runs
 * commands off its I/O threads. With the library's own server, which runs each command on its
 * connection's event loop, long commands on a few connections stalled every connection sharing
 * those loops, the driver's monitor included, and the auth server went degraded.
 */
class WireServerTest {
  /** More than the server's I/O threads, fewer than its command threads. */
  private static final int LONG_COMMANDS = WireServer.COMMAND_THREADS - 2;

  @Test
  void aPingAnswersWhileOtherConnectionsRunLongCommands() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger running = new AtomicInteger();
    MVStore mvStore = MVStore.open(null);
    // a stand-in for a long walk: {count: "held"} waits until the test releases it
    MongoBackend backend = holding(new IndexedH2Backend(mvStore), running, release);
    // two I/O threads, as on a two-core machine, so that the long commands would hold every one of
    // them if commands ran there, whatever this machine's cores
    WireServer server = WireServer.bind(backend, "127.0.0.1", 0, 2);
    String uri = "mongodb://127.0.0.1:" + server.localAddress().getPort();
    List<Thread> longCommands = new ArrayList<>();
    try (MongoClient busy = MongoClients.create(MongoClientSettings.builder().applyConnectionString(
        new ConnectionString(uri + "/?maxPoolSize=" + LONG_COMMANDS)).build())) {
      for (int i = 0; i < LONG_COMMANDS; i++) {
        longCommands.add(Thread.ofPlatform().daemon().start(
            () -> busy.getDatabase("t").runCommand(new Document("count", "held"))));
      }
      Await.until(LONG_COMMANDS + " long commands running at once", 20, () -> running.get() == LONG_COMMANDS);

      MongoClientSettings prompt = MongoClientSettings.builder().applyConnectionString(new ConnectionString(uri))
          .applyToClusterSettings(b -> b.serverSelectionTimeout(15, TimeUnit.SECONDS))
          .applyToSocketSettings(b -> b.connectTimeout(15, TimeUnit.SECONDS).readTimeout(15, TimeUnit.SECONDS))
          .build();
      try (MongoClient other = MongoClients.create(prompt)) {
        // generous for a busy machine (the first ping also selects the server and connects twice);
        // behind the long commands it would wait until they are released, which is never before this
        long started = System.nanoTime();
        Document answer = other.getDatabase("admin").runCommand(new Document("ping", 1));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(1.0, answer.get("ok", Number.class).doubleValue());
        assertTrue(millis < 10_000, "a ping took " + millis + " ms beside " + LONG_COMMANDS + " long commands");
        // and writes and reads of another connection go on
        other.getDatabase("t").getCollection("c").insertOne(new Document("_id", 1));
        assertEquals(1, other.getDatabase("t").getCollection("c").countDocuments());
      }
      release.countDown();
      for (Thread thread : longCommands) {
        thread.join(10_000);
      }
    } finally {
      release.countDown();
      server.shutdownNow();
    }
  }

  /**
   * An unauthenticated client that sends pings without ever reading the answers (allowed before
   * authentication, as in MongoDB) is no longer read once its answers back up: its own sends
   * block, and the store's heap does not take what it sends (the library's server, and this one
   * before, read on after each answer: a 96 MiB heap ran out in seconds).
   */
  @Test
  void aClientThatNeverReadsItsAnswersStopsBeingRead() throws Exception {
    WireServer server = guardedServer();
    AtomicLong sent = new AtomicLong();
    try (RawWire wire = new RawWire(server.localAddress().getPort())) {
      BsonDocument ping = new BsonDocument("ping", new BsonInt32(1));
      Thread.ofPlatform().daemon().start(() -> {
        try {
          while (sent.get() < UNREAD_LIMIT_BYTES) {
            sent.addAndGet(wire.sendWithoutReading("admin", ping));
          }
        } catch (IOException closed) {
          // the test is over
        }
      });
      long[] last = {-1, System.nanoTime()};
      Await.until("the client's sends to stall (sent so far: " + sent.get() + " bytes)", 30, () -> {
        long now = sent.get();
        if (now != last[0]) {
          last[0] = now;
          last[1] = System.nanoTime();
          return false;
        }
        return System.nanoTime() - last[1] > TimeUnit.SECONDS.toNanos(1);
      });
      assertTrue(sent.get() < UNREAD_LIMIT_BYTES, sent.get() + " bytes taken from a client that reads nothing");
    } finally {
      server.shutdownNow();
    }
  }

  /**
   * Garbage from a process that never authenticated (here an opcode no MongoDB has) ends its
   * connection with one warning line and no stack trace: the library's own handler logged each
   * such connection at ERROR with a stack trace, a way for anyone on the host to fill the log.
   */
  @Test
  void garbageEndsItsConnectionWithOneLineAndNoStackTrace() throws Exception {
    ListAppender<ILoggingEvent> logged = capturingEverything();
    WireServer server = guardedServer();
    try {
      for (int i = 0; i < 3; i++) {
        sendGarbage(server);
      }
      Await.until("a line per connection", 10, () -> warningsFromTheListener(logged) == 3);
      assertEquals(3, warningsFromTheListener(logged));
      assertNoStackTraceOrError(logged);
    } finally {
      server.shutdownNow();
      root().detachAppender(logged);
    }
  }

  /**
   * A command whose {@code $db} is not a string made the library log "Unknown error!" with a stack
   * trace at ERROR for every such message, before authentication, and kept the connection open:
   * a loop of them filled the log. Now the connection ends with one line.
   */
  @Test
  void aMessageThatBreaksTheHandshakeEndsItsConnectionWithOneLine() throws Exception {
    ListAppender<ILoggingEvent> logged = capturingEverything();
    WireServer server = guardedServer();
    try (RawWire wire = new RawWire(server.localAddress().getPort())) {
      byte[] ping = wire.message(new BsonDocument("ping", new BsonInt32(1)).append("$db", new BsonInt32(1)));
      for (int i = 0; i < 5; i++) {
        try {
          wire.sendBytes(ping, ping.length);
        } catch (IOException closed) {
          break;
        }
      }
      assertTrue(wire.closedByServerAfterItsAnswers(), "the connection stayed open");
      assertNoStackTraceOrError(logged);
      assertEquals(1, List.copyOf(logged.list).stream().filter(e -> e.getLevel() == Level.WARN).count(),
          "warnings: " + List.copyOf(logged.list).stream().map(ILoggingEvent::getFormattedMessage).toList());
    } finally {
      server.shutdownNow();
      root().detachAppender(logged);
    }
  }

  /**
   * Before authentication a client waits for each answer. Hundreds of pings in one write (their
   * answers never read) would all be decoded and answered into the connection's outbound buffer,
   * whatever the pause in reading that follows; the connection ends at the third message of a read.
   */
  @Test
  void anUnauthenticatedClientSendingWithoutWaitingIsClosed() throws Exception {
    WireServer server = guardedServer();
    try (RawWire wire = new RawWire(server.localAddress().getPort())) {
      byte[] ping = wire.message(new BsonDocument("ping", new BsonInt32(1)).append("$db", new BsonString("admin")));
      byte[] many = new byte[ping.length * 200];
      for (int i = 0; i < 200; i++) {
        System.arraycopy(ping, 0, many, i * ping.length, ping.length);
      }
      wire.sendBytes(many, many.length);
      assertTrue(wire.closedByServerAfterItsAnswers(), "a client pipelining 200 pings before authenticating stayed connected");
    } finally {
      server.shutdownNow();
    }
  }

  /**
   * A local process without the credential opening connection after connection, each holding a
   * socket and heap: beyond the bound the oldest unauthenticated one is closed, with one warning
   * for all of them (without the bound every one stayed open). The store's own clients mark their
   * connections, so the flood never closes theirs, monitors included, and they still open new
   * ones: a bound that refused newcomers instead made the driver drop every connection it had.
   */
  @Test
  void aFloodOfUnauthenticatedConnectionsClosesItsOwnOldestAndNotTheStoresClients() throws Exception {
    int bound = 8;
    MongoCredential credential = EmbeddedStore.randomCredential();
    ListAppender<ILoggingEvent> logged = capturingEverything();
    WireServer server = guardedServer(credential, WireServer.Limits.DEFAULTS.withMaxUnauthenticated(bound)
        .withWarnings(5, java.time.Duration.ofMinutes(1), () -> 0L));
    int port = server.localAddress().getPort();
    MongoClientSettings settings = MongoClientSettings.builder(EmbeddedStore.clientSettings(server.localAddress(), credential))
        .applyToClusterSettings(c -> c.serverSelectionTimeout(5, TimeUnit.SECONDS)).build();
    List<RawWire> flood = new ArrayList<>();
    try (MongoClient first = MongoClients.create(settings)) {
      MongoCollection<Document> things = first.getDatabase("test").getCollection("things");
      things.insertOne(new Document("n", 1));
      Await.until("the client's connections, its monitor's too, no longer count", 10,
          () -> server.unauthenticatedConnections() == 0);
      for (int i = 0; i < bound + 20; i++) {
        flood.add(new RawWire(port));
      }
      Await.until("the flood holds every place", 10, () -> server.unauthenticatedConnections() == bound);
      // which 20 go depends on the order two I/O threads saw them open: count them
      BsonDocument ping = new BsonDocument("ping", new BsonInt32(1));
      Await.until("20 of the flood closed", 10, () -> {
        int open = 0;
        for (RawWire wire : flood) {
          try {
            if (wire.command("admin", ping).getNumber("ok").doubleValue() == 1.0) {
              open++;
            }
          } catch (IOException closed) {
            // closed by the store
          }
        }
        return open == bound;
      });
      assertEquals(bound, server.unauthenticatedConnections());
      assertEquals(5, List.copyOf(logged.list).stream().filter(e -> e.getLevel() == Level.WARN
          && e.getLoggerName().equals(UnauthenticatedConnectionLimit.class.getName())).count(),
          "a line for each of the first 5 of the 20 closed, the budget: "
              + List.copyOf(logged.list).stream().map(ILoggingEvent::getFormattedMessage).toList());

      // during the flood: a new client of the store's own connects, and the first opens new connections
      try (MongoClient second = MongoClients.create(settings)) {
        second.getDatabase("test").getCollection("things").insertOne(new Document("n", 2));
      }
      List<Thread> concurrent = new ArrayList<>();
      AtomicInteger counted = new AtomicInteger();
      for (int i = 0; i < 6; i++) {
        concurrent.add(Thread.ofPlatform().start(() -> {
          if (things.countDocuments() == 2) {
            counted.incrementAndGet();
          }
        }));
      }
      for (Thread thread : concurrent) {
        thread.join(20_000);
      }
      assertEquals(6, counted.get(), "the first client's operations during the flood");
    } finally {
      for (RawWire wire : flood) {
        wire.close();
      }
      server.shutdownNow();
      root().detachAppender(logged);
    }
  }

  /**
   * A storm: connections opened one after another for two seconds (longer on a busy machine,
   * until it is past the bound) while a client of the store's own keeps replacing its
   * connections (each lives 50 ms) and working. Each of its new
   * connections is marked as its first message is read, on the I/O thread, before it could wait
   * behind the storm's work for a command thread, so the storm closes only its own.
   */
  @Test
  void aStormOfNewConnectionsDoesNotCloseTheStoresClientsNewOnes() throws Exception {
    // the real bound: a new connection of the client is at risk only if a bound's worth of the
    // storm's are accepted before its first message is read
    int bound = UnauthenticatedConnectionLimit.MAX_UNAUTHENTICATED;
    MongoCredential credential = EmbeddedStore.randomCredential();
    WireServer server = guardedServer(credential, WireServer.Limits.DEFAULTS);
    int port = server.localAddress().getPort();
    MongoClientSettings settings = MongoClientSettings.builder(EmbeddedStore.clientSettings(server.localAddress(), credential))
        .applyToConnectionPoolSettings(p -> p.maxConnectionLifeTime(50, TimeUnit.MILLISECONDS))
        // no retries: a connection the storm closed would otherwise be hidden by the driver's second try
        .retryWrites(false).retryReads(false)
        .applyToClusterSettings(c -> c.serverSelectionTimeout(5, TimeUnit.SECONDS)).build();
    List<java.net.Socket> storm = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread opener = Thread.ofPlatform().start(() -> {
      while (!stop.get() && storm.size() < 6_000) {
        try {
          storm.add(new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
          return;
        }
      }
    });
    try (MongoClient client = MongoClients.create(settings)) {
      MongoCollection<Document> things = client.getDatabase("test").getCollection("things");
      long started = System.nanoTime();
      long until = started + TimeUnit.SECONDS.toNanos(2);
      // on a busy machine two seconds may not see a bound's worth of the storm (CI once saw 228):
      // the client keeps working until the storm is well past the bound, within 30 s
      long latest = started + TimeUnit.SECONDS.toNanos(30);
      int done = 0;
      while (System.nanoTime() < until || (storm.size() <= bound + 100 && System.nanoTime() < latest)) {
        things.insertOne(new Document("n", done));
        done++;
      }
      assertEquals(done, things.countDocuments(), "every operation during the storm succeeded");
      assertTrue(server.unauthenticatedConnections() <= bound, "the bound held: " + server.unauthenticatedConnections());
      assertTrue(storm.size() > bound, "the storm opened " + storm.size() + " connections, too few to close any");
    } finally {
      stop.set(true);
      opener.join(10_000);
      synchronized (storm) {
        for (java.net.Socket socket : storm) {
          socket.close();
        }
      }
      server.shutdownNow();
    }
  }

  /** The mark comes from the credential: another start's does not count, nor does a name without it. */
  @Test
  void onlyTheCredentialsOwnMarkExemptsAConnection() {
    MongoCredential credential = EmbeddedStore.randomCredential();
    ConnectionMarker marker = ConnectionMarker.of(credential);
    assertTrue(marker.marks(marker.mark("auth-server vm-1")));
    assertTrue(marker.marks(marker.mark("x".repeat(300))), "a long name is cut, the mark kept");
    assertTrue(marker.mark("x".repeat(300)).getBytes(java.nio.charset.StandardCharsets.UTF_8).length
        <= ConnectionMarker.MAX_APPLICATION_NAME_BYTES);
    assertFalse(marker.marks(ConnectionMarker.of(EmbeddedStore.randomCredential()).mark("auth-server vm-1")));
    assertFalse(marker.marks("auth-server vm-1"));
    assertFalse(marker.marks(null));
    assertFalse(marker.marks(42));
  }

  /**
   * Connection after connection failing its authentication (each closed): only the first lines of
   * a window are logged, and the count of the rest comes with the first line of a later window.
   * Without the budget each connection wrote its own line, a way to fill the log's disk.
   */
  @Test
  void warningsAboutUnauthenticatedConnectionsAreBudgetedAndCounted() throws Exception {
    int budget = 3;
    AtomicLong now = new AtomicLong();
    ListAppender<ILoggingEvent> logged = capturingEverything();
    WireServer server = budgetedServer(budget, now);
    try {
      for (int i = 0; i < 10; i++) {
        failAuthentication(server);
      }
      Await.until("the failures logged", 10, () -> warnings(logged).size() >= budget);
      Thread.sleep(200);   // a line over the budget, had it been written, would be there by now
      assertEquals(budget, warnings(logged).size(), "lines in the first minute: " + warnings(logged));

      now.addAndGet(java.time.Duration.ofMinutes(1).toNanos());
      failAuthentication(server);
      Await.until("the next minute's line", 10, () -> warnings(logged).size() >= budget + 2);
      List<String> later = warnings(logged).subList(budget, budget + 2);
      assertTrue(later.get(0).contains("7 more warnings"), "the count of those not logged comes first: " + later);
      assertTrue(later.get(1).contains("failed authentication"), later.get(1));

      for (int i = 0; i < 4; i++) {
        failAuthentication(server);
      }
      Await.until("two more lines in this minute", 10, () -> warnings(logged).size() >= budget + 4);
    } finally {
      server.shutdownNow();
      root().detachAppender(logged);
    }
    assertTrue(warnings(logged).get(budget + 4).contains("2 more warnings"),
        "the count is logged as the store stops: " + warnings(logged));
  }

  /**
   * A flood of one kind (junk connections) uses up its own budget only: a password guess in the
   * same minute is still named. With one budget for every reason, junk could leave a minute of
   * guesses counted but never shown.
   */
  @Test
  void oneKindOfWarningCannotCrowdOutAnother() throws Exception {
    int budget = 3;
    AtomicLong now = new AtomicLong();
    ListAppender<ILoggingEvent> logged = capturingEverything();
    WireServer server = budgetedServer(budget, now);
    try {
      for (int i = 0; i < budget + 3; i++) {
        sendGarbage(server);
      }
      Await.until("the junk logged", 10, () -> warnings(logged).size() >= budget);
      failAuthentication(server);
      Await.until("the guess logged", 10,
          () -> warnings(logged).stream().anyMatch(w -> w.contains("failed authentication")));
      Thread.sleep(200);   // a junk line over its budget, had it been written, would be there by now
      assertEquals(budget + 1, warnings(logged).size(), "lines: " + warnings(logged));

      // the junk never comes back: its count comes with the next warning of any kind
      now.addAndGet(java.time.Duration.ofMinutes(1).toNanos());
      failAuthentication(server);
      Await.until("the next minute's lines", 10, () -> warnings(logged).size() >= budget + 3);
      String count = warnings(logged).get(budget + 1);
      assertTrue(count.contains("3 more warnings like") && count.contains("closing unauthenticated connection"),
          "the junk's count, with its kind: " + warnings(logged));
      assertTrue(warnings(logged).get(budget + 2).contains("failed authentication"), warnings(logged).toString());
    } finally {
      server.shutdownNow();
      root().detachAppender(logged);
    }
    assertEquals(budget + 3, warnings(logged).size(), "nothing left to count at the stop: " + warnings(logged));
  }

  /**
   * A burst of large messages leaves no buffers behind on the connections that carried it, which
   * stay open (the driver pools them): Netty's default pool keeps the chunks a burst made for as
   * long as the process lives, 25 MiB after 100k events were seeded into a running server.
   */
  @Test
  void connectionsKeepNoBuffersOnceABurstIsOver() throws Exception {
    MongoCredential credential = EmbeddedStore.randomCredential();
    WireServer server = guardedServer(credential, WireServer.Limits.DEFAULTS);
    try (MongoClient client = MongoClients.create(EmbeddedStore.clientSettings(server.localAddress(), credential))) {
      MongoCollection<Document> events = client.getDatabase("t").getCollection("events");
      String filler = "x".repeat(4096);
      for (int batch = 0; batch < 4; batch++) {
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
          documents.add(new Document("batch", batch).append("i", i).append("filler", filler));
        }
        events.insertMany(documents);   // about 4 MiB in one message
      }
      long read = 0;
      for (Document ignored : events.find().batchSize(2000)) {   // answers of about 8 MiB
        read++;
      }
      assertEquals(4000, read);
      assertTrue(server.connectionCount() > 0, "the burst's connections are still open");

      try {
        Await.until("the connections' buffers given back", 20, () -> server.connectionBufferBytes() == 0);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; held now: " + server.connectionBufferBytes() + " bytes", e);
      }
      assertTrue(server.connectionCount() > 0, "the burst's connections are still open");
    } finally {
      server.shutdownNow();
    }
  }

  /** One connection sending an opcode no MongoDB has: closed with a warning. */
  private static void sendGarbage(WireServer server) throws IOException {
    try (RawWire wire = new RawWire(server.localAddress().getPort())) {
      ByteBuffer message = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
      message.putInt(32).putInt(1).putInt(0).putInt(4242);   // length, request id, response to, opcode
      wire.sendBytes(message.array(), 32);
      assertTrue(wire.closedByServer(), "a connection that sent an unknown opcode stayed open");
    }
  }

  /** A guarded server whose warnings have {@code budget} lines per kind a minute, timed by {@code now}. */
  private static WireServer budgetedServer(int budget, AtomicLong now) {
    return guardedServer(EmbeddedStore.randomCredential(),
        WireServer.Limits.DEFAULTS.withWarnings(budget, java.time.Duration.ofMinutes(1), now::get));
  }

  /** One connection sending a SCRAM first message for a user that does not exist: refused, and closed. */
  private static void failAuthentication(WireServer server) throws IOException {
    try (RawWire wire = new RawWire(server.localAddress().getPort())) {
      BsonDocument start = new BsonDocument("saslStart", new BsonInt32(1))
          .append("mechanism", new BsonString("SCRAM-SHA-256"))
          .append("payload", new org.bson.BsonBinary("n,,n=nobody,r=abcdefghijklmnop".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      wire.command("admin", start);
      assertTrue(wire.closedByServerAfterItsAnswers(), "a failed authentication left its connection open");
    }
  }

  private static List<String> warnings(ListAppender<ILoggingEvent> logged) {
    return List.copyOf(logged.list).stream().filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage).toList();
  }

  /** A listener on a fresh in-memory store, behind the store's authentication, as the embedded store runs it. */
  private static WireServer guardedServer() {
    return guardedServer(EmbeddedStore.randomCredential(), WireServer.Limits.DEFAULTS);
  }

  /** As {@link #guardedServer()}, reachable with {@code credential}, with these limits on unauthenticated connections. */
  private static WireServer guardedServer(MongoCredential credential, WireServer.Limits limits) {
    return WireServer.bind(AuthenticatingBackend.guarding(new IndexedH2Backend(MVStore.open(null)), credential),
        "127.0.0.1", 0, 0, limits);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** Everything logged from now on (detach from {@link #root()} when done). */
  private static ListAppender<ILoggingEvent> capturingEverything() {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root().addAppender(logged);
    return logged;
  }

  private static void assertNoStackTraceOrError(ListAppender<ILoggingEvent> logged) {
    for (ILoggingEvent event : List.copyOf(logged.list)) {
      assertNull(event.getThrowableProxy(), "a stack trace was logged: " + event.getFormattedMessage());
      assertTrue(event.getLevel().toInt() < Level.ERROR_INT, "logged at ERROR: " + event.getFormattedMessage());
    }
  }

  private static long warningsFromTheListener(ListAppender<ILoggingEvent> logged) {
    return List.copyOf(logged.list).stream().filter(e -> e.getLevel() == Level.WARN
        && e.getLoggerName().equals(WireServer.class.getName()) && e.getFormattedMessage().contains("closing unauthenticated connection"))
        .count();
  }

  /** Far above what the socket buffers of both sides hold (a few MiB on loopback). */
  private static final long UNREAD_LIMIT_BYTES = 64L * 1024 * 1024;

  private static MongoBackend holding(MongoBackend real, AtomicInteger running, CountDownLatch release) {
    return (MongoBackend) Proxy.newProxyInstance(WireServerTest.class.getClassLoader(), new Class<?>[] {MongoBackend.class},
        (proxy, method, args) -> {
          if (method.getName().equals("handleMessage")
              && "held".equals(((MongoMessage) args[0]).getDocument().get("count"))) {
            running.incrementAndGet();
            release.await(30, TimeUnit.SECONDS);
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
