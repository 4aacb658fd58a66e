package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.Document;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Before a connection has authenticated, the store takes no message larger than
 * {@link UnauthenticatedFrameLimit#MAX_FRAME_BYTES} and no message trickled in: the library's
 * decoder buffered up to 48 MB of any connection, so a few local processes without the credential
 * could take the heap the auth server shares with the store.
 */
class UnauthenticatedFrameLimitTest {
  /**
   * Closed at the announcing header, not by the partial-frame timeout that would close it anyway:
   * 2 s under that timeout, so a busy machine's scheduling has room and the two stay apart.
   */
  private static final long CLOSED_WELL_BEFORE_THE_PARTIAL_FRAME_TIMEOUT_MILLIS =
      UnauthenticatedFrameLimit.PARTIAL_FRAME_TIMEOUT.toMillis() - 2_000;

  private static final int OP_MSG = 2013;
  /** What each attacker announces: within the library's own 48 MB limit. */
  private static final int ANNOUNCED = 40_000_000;
  /** How much each attacker tries to send of it: without the limit, all of it is buffered by the store. */
  private static final int SEND_AT_MOST = 16 << 20;
  /**
   * What the kernel takes before the store's close reaches the client, in socket buffers, not in
   * the store's heap: the client's send buffer (at most 4 MiB on Linux) and the store's receive
   * buffer (128 KiB, not grown while unread). About 4 MiB measured; without the limit all 16 MiB go.
   */
  private static final int TAKEN_AT_MOST = 8 << 20;
  private static final int ATTACKERS = 4;

  @TempDir Path dir;
  private EmbeddedStore store;
  private ListAppender<ILoggingEvent> logged;

  @BeforeEach
  void start() {
    logged = new ListAppender<>();
    logged.start();
    limitLogger().addAppender(logged);
    store = EmbeddedStore.start(dir);
  }

  @AfterEach
  void stop() {
    store.close();
    limitLogger().detachAppender(logged);
  }

  private static Logger limitLogger() {
    return (Logger) LoggerFactory.getLogger(UnauthenticatedFrameLimit.class);
  }

  @Test
  void unauthenticatedClientsAnnouncingHugeMessagesAreClosedAtTheHeader() throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    ExecutorService attackers = Executors.newFixedThreadPool(ATTACKERS);
    try {
      List<Future<Attack>> attacks = new ArrayList<>();
      for (int i = 0; i < ATTACKERS; i++) {
        attacks.add(attackers.submit(() -> {
          go.await();
          return announceAndSend(store.port());
        }));
      }
      go.countDown();
      for (Future<Attack> future : attacks) {
        Attack attack = future.get(60, TimeUnit.SECONDS);
        assertTrue(attack.closed, "a connection announcing " + ANNOUNCED + " bytes was not closed; it sent "
            + attack.sent + " bytes");
        assertTrue(attack.sent < TAKEN_AT_MOST, attack.sent + " bytes taken from an unauthenticated connection");
        assertTrue(attack.millis < CLOSED_WELL_BEFORE_THE_PARTIAL_FRAME_TIMEOUT_MILLIS,
            "closed only after " + attack.millis + " ms");
      }
    } finally {
      attackers.shutdownNow();
    }
    // one line per refused connection, no more
    Await.until(ATTACKERS + " refusals logged", 10, () -> warnings() >= ATTACKERS);
    assertEquals(ATTACKERS, warnings());
    assertTrue(logged.list.get(0).getFormattedMessage().contains("announced a message of " + ANNOUNCED + " bytes"),
        logged.list.get(0).getFormattedMessage());
    // and the store still serves its client
    try (MongoClient client = MongoClients.create(store.clientSettings())) {
      client.getDatabase("t").getCollection("c").insertOne(new Document("_id", 1));
      assertEquals(1, client.getDatabase("t").getCollection("c").countDocuments());
    }
  }

  @Test
  void theHeaderAloneIsEnoughToBeClosed() throws Exception {
    byte[] header = header(ANNOUNCED);
    try (RawWire wire = new RawWire(store.port())) {
      long started = System.nanoTime();
      // the length field in two pieces, and nothing of the message after it
      wire.sendBytes(header, 2);
      wire.sendBytes(new byte[] {header[2], header[3]}, 2);
      assertTrue(wire.closedByServer(), "a connection that announced " + ANNOUNCED + " bytes stays open");
      assertTrue(System.nanoTime() - started
          < TimeUnit.MILLISECONDS.toNanos(CLOSED_WELL_BEFORE_THE_PARTIAL_FRAME_TIMEOUT_MILLIS));
    }
  }

  @Test
  void anAuthenticatedClientStillSendsAndReadsLargeDocuments() {
    String payload = "x".repeat(1 << 20);
    try (MongoClient client = MongoClients.create(store.clientSettings())) {
      MongoCollection<Document> collection = client.getDatabase("t").getCollection("large");
      collection.insertOne(new Document("_id", "big").append("payload", payload));
      assertEquals(payload, collection.find().first().getString("payload"));
    }
    assertEquals(0, warnings());
  }

  @Test
  void aMessageLeftHalfSentEndsTheConnectionButAnIdleOneStays() throws Exception {
    Duration timeout = Duration.ofMillis(500);
    WireServer server = WireServer.bind(AuthenticatingBackend.guarding(new IndexedH2Backend(MVStore.open(null)),
        EmbeddedStore.randomCredential()), "127.0.0.1", 0, 0, WireServer.Limits.DEFAULTS.withPartialFrameTimeout(timeout));
    BsonDocument ping = new BsonDocument("ping", new BsonInt32(1));
    try (RawWire idle = new RawWire(server.localAddress().getPort());
        RawWire trickling = new RawWire(server.localAddress().getPort())) {
      assertEquals(1.0, idle.command("admin", ping).getNumber("ok").doubleValue());
      long started = System.nanoTime();
      // a message of 1,000 bytes, well under the limit, of which 100 come and then nothing
      byte[] message = new byte[1000];
      System.arraycopy(header(message.length), 0, message, 0, 16);
      trickling.sendBytes(message, 100);
      assertTrue(trickling.closedByServer(), "a message half sent for longer than " + timeout + " is waited for");
      assertTrue(System.nanoTime() - started >= timeout.toNanos());
      // a connection that sent whole messages and then nothing is left alone, as the driver's monitor
      assertEquals(1.0, idle.command("admin", ping).getNumber("ok").doubleValue());
    } finally {
      server.shutdownNow();
    }
    assertTrue(logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains("half received")));
  }

  /** Messages cut anywhere pass on byte for byte; the header over the limit is refused at its fourth byte. */
  @Test
  void followsMessagesAcrossReadsAndPassesThemOnUntouched() {
    EmbeddedChannel channel = new EmbeddedChannel(new UnauthenticatedFrameLimit(1024, Integer.MAX_VALUE, Duration.ofSeconds(10)));
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    Random random = new Random(7);
    for (int length : new int[] {16, 1024, 300, 17, 1024}) {
      byte[] message = new byte[length];
      random.nextBytes(message);
      System.arraycopy(header(length), 0, message, 0, 16);
      stream.writeBytes(message);
    }
    byte[] sent = stream.toByteArray();
    ByteArrayOutputStream passed = new ByteArrayOutputStream();
    for (int at = 0; at < sent.length; ) {
      int piece = Math.min(sent.length - at, 1 + random.nextInt(random.nextBoolean() ? 5 : 1500));
      channel.writeInbound(Unpooled.wrappedBuffer(sent, at, piece));
      at += piece;
      ByteBuf out;
      while ((out = channel.readInbound()) != null) {
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        out.release();
        passed.writeBytes(bytes);
      }
    }
    assertArrayEquals(sent, passed.toByteArray());
    assertTrue(channel.isOpen());

    byte[] tooLong = header(1025);
    for (int i = 0; i < 3; i++) {
      channel.writeInbound(Unpooled.wrappedBuffer(tooLong, i, 1));
      assertTrue(channel.isOpen(), "closed before the length field was whole");
    }
    channel.writeInbound(Unpooled.wrappedBuffer(tooLong, 3, 13));
    assertFalse(channel.isOpen());
    channel.finishAndReleaseAll();
  }

  /**
   * A client whose every write ends one message and begins the next keeps one message half
   * received at all times: the connection holds one timer, not one per message (each of which
   * would hold the connection's pipeline for 10 s: a fast client made hundreds of thousands).
   */
  @Test
  void aConnectionAlwaysMidMessageHoldsOneTimer() throws Exception {
    EmbeddedChannel channel = new EmbeddedChannel(new UnauthenticatedFrameLimit(1024, Integer.MAX_VALUE,
        Duration.ofSeconds(10)));
    byte[] message = new byte[64];
    System.arraycopy(header(message.length), 0, message, 0, 16);
    channel.writeInbound(Unpooled.wrappedBuffer(message, 0, 1));
    for (int i = 0; i < 200; i++) {
      // the rest of this message and the first byte of the next, in one read
      ByteBuf read = Unpooled.buffer(message.length).writeBytes(message, 1, message.length - 1).writeBytes(message, 0, 1);
      channel.writeInbound(read);
      ReferenceCountUtil.release(channel.readInbound());
    }
    assertTrue(channel.isOpen());
    assertEquals(1, scheduledTasks(channel), "timers left on the connection's event loop");
    channel.finishAndReleaseAll();
  }

  /** The tasks waiting in an embedded channel's event loop (Netty keeps the queue to itself). */
  private static int scheduledTasks(EmbeddedChannel channel) throws ReflectiveOperationException {
    java.lang.reflect.Field queue = io.netty.util.concurrent.AbstractScheduledEventExecutor.class
        .getDeclaredField("scheduledTaskQueue");
    queue.setAccessible(true);
    Object tasks = queue.get(channel.eventLoop());
    return tasks == null ? 0 : ((java.util.Collection<?>) tasks).size();
  }

  /** Once authenticated, the connection's reads no longer pass through the handler. */
  @Test
  void stepsAsideOnceAuthenticated() {
    EmbeddedChannel channel = new EmbeddedChannel(new UnauthenticatedFrameLimit(1024, Integer.MAX_VALUE, Duration.ofSeconds(10)));
    UnauthenticatedFrameLimit.authenticated(channel);
    assertTrue(channel.writeInbound(Unpooled.wrappedBuffer(header(ANNOUNCED))));
    assertNull(channel.pipeline().get(UnauthenticatedFrameLimit.class));
    assertTrue(channel.isOpen());
    channel.finishAndReleaseAll();
  }

  private long warnings() {
    return logged.list.stream().filter(e -> e.getLevel() == Level.WARN).count();
  }

  /** An OP_MSG header announcing {@code length} bytes. */
  private static byte[] header(int length) {
    return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(length).putInt(1).putInt(0).putInt(OP_MSG)
        .array();
  }

  private record Attack(boolean closed, long sent, long millis) {}

  /** Announces {@link #ANNOUNCED} bytes and sends up to {@link #SEND_AT_MOST} of them. */
  private static Attack announceAndSend(int port) throws IOException {
    long started = System.nanoTime();
    long sent = 0;
    boolean closed = false;
    try (RawWire wire = new RawWire(port)) {
      byte[] first = new byte[64 * 1024];
      System.arraycopy(header(ANNOUNCED), 0, first, 0, 16);
      byte[] rest = new byte[first.length];
      try {
        while (sent < SEND_AT_MOST) {
          wire.sendBytes(sent == 0 ? first : rest, first.length);
          sent += first.length;
        }
        closed = wire.closedByServer();
      } catch (IOException reset) {
        closed = true;
      }
    }
    return new Attack(closed, sent, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }
}
