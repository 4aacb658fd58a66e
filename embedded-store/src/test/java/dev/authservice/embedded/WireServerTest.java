package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;

/**
 * One connection's long command holds no other connection: the embedded store's listener runs
 * commands off its I/O threads. With the library's own server, which runs each command on its
 * connection's event loop, long commands on a few connections stalled every connection sharing
 * those loops, the driver's monitor included, and the auth server went degraded.
 */
class WireServerTest {
  /** More than the I/O threads of any likely machine's default (2 per core), fewer than the command threads. */
  private static final int LONG_COMMANDS = WireServer.COMMAND_THREADS - 2;

  @Test
  void aPingAnswersWhileOtherConnectionsRunLongCommands() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger running = new AtomicInteger();
    MVStore mvStore = MVStore.open(null);
    // a stand-in for a long walk: {count: "held"} waits until the test releases it
    MongoBackend backend = holding(new IndexedH2Backend(mvStore), running, release);
    WireServer server = WireServer.bind(backend, "127.0.0.1", 0);
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
          .applyToClusterSettings(b -> b.serverSelectionTimeout(3, TimeUnit.SECONDS))
          .applyToSocketSettings(b -> b.connectTimeout(3, TimeUnit.SECONDS).readTimeout(3, TimeUnit.SECONDS))
          .build();
      try (MongoClient other = MongoClients.create(prompt)) {
        long started = System.nanoTime();
        Document answer = other.getDatabase("admin").runCommand(new Document("ping", 1));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(1.0, answer.get("ok", Number.class).doubleValue());
        assertTrue(millis < 2_000, "a ping took " + millis + " ms beside " + LONG_COMMANDS + " long commands");
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
