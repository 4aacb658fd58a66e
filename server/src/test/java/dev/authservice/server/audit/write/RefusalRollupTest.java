package dev.authservice.server.audit.write;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.AuditSink;
import dev.authservice.server.audit.EventIds;
import dev.authservice.server.core.AddressBlocks;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The rollup of refused calls on its own, over a sink that keeps what it is given: what is
 * written at once, what is counted, what a flush writes, and what is forgotten.
 */
class RefusalRollupTest {
  private static final Instant MINUTE = Instant.parse("2026-05-01T10:00:00Z");

  /** Keeps every event: those written one at a time (at once), and each flush's batch. */
  private static final class KeepingSink implements AuditSink {
    final List<AuditEvent> atOnce = new ArrayList<>();
    final List<List<AuditEvent>> flushes = new ArrayList<>();

    @Override
    public synchronized void write(AuditEvent event) {
      atOnce.add(event);
    }

    @Override
    public synchronized void writeAll(List<AuditEvent> events) {
      flushes.add(List.copyOf(events));
    }

    synchronized List<AuditEvent> flushed() {
      return flushes.stream().flatMap(List::stream).toList();
    }
  }

  private final KeepingSink sink = new KeepingSink();

  private static AuditEvent refusedLogin(Instant at, String clientIp, String username) {
    return new AuditEvent(EventIds.at(at), at, AuditEventType.LOGIN, AuditOutcome.FAILURE, username, "", "",
        clientIp, "curl/8.0", "auth.v1.AuthService/Login", "address_rate_limited", "test", "", "");
  }

  @Test
  void theFirstOfAGroupIsWrittenAtOnceTheRestCountedAndFlushedWithCountFirstAndLast() {
    RefusalRollup rollup = new RefusalRollup(sink, 100);
    AuditEvent first = refusedLogin(MINUTE.plusSeconds(1), "198.51.100.7", "guess-1");
    rollup.count(first, false);
    assertEquals(List.of(first), sink.atOnce, "the first of its group, as it is, at once");

    rollup.count(refusedLogin(MINUTE.plusSeconds(9), "198.51.100.7", "guess-2"), false);
    rollup.count(refusedLogin(MINUTE.plusSeconds(3), "198.51.100.7", "guess-3"), false);
    rollup.count(refusedLogin(MINUTE.plusSeconds(5), "198.51.100.7", "guess-4"), false);
    assertEquals(1, sink.atOnce.size(), "the rest of the group are counted, not written");
    assertTrue(sink.flushes.isEmpty());

    rollup.flush(MINUTE.plusSeconds(10));
    assertEquals(1, sink.flushes.size());
    AuditEvent counted = sink.flushes.get(0).get(0);
    assertEquals(1, sink.flushes.get(0).size(), "one event for the group");
    assertEquals(3, counted.count());
    assertEquals(MINUTE.plusSeconds(3), counted.firstTime());
    assertEquals(MINUTE.plusSeconds(9), counted.lastTime());
    assertEquals(counted.firstTime(), counted.time(), "timed at the first it stands for");
    assertEquals("198.51.100.7", counted.clientIp());
    assertEquals("address_rate_limited", counted.reason());
    assertEquals("", counted.username(), "an address-wide refusal is not about one username");
    assertEquals("", counted.userAgent(), "outside the group, so not kept");

    rollup.flush(MINUTE.plusSeconds(20));
    assertEquals(1, sink.flushes.size(), "nothing counted since: nothing written");
  }

  @Test
  void refusalsAboutAnAccountAreCountedApartForEachUsername() {
    RefusalRollup rollup = new RefusalRollup(sink, 100);
    for (String username : List.of("alice", "bob", "alice", "bob", "alice")) {
      rollup.count(refusedLogin(MINUTE.plusSeconds(1), "198.51.100.7", username), true);
    }
    assertEquals(List.of("alice", "bob"), sink.atOnce.stream().map(AuditEvent::username).toList());
    rollup.flush(MINUTE.plusSeconds(2));
    assertEquals(List.of("alice:2", "bob:1"), sink.flushed().stream().map(e -> e.username() + ":" + e.count())
        .sorted().toList());
  }

  @Test
  void pastTheGroupCapFurtherCallersAreCountedTogetherWithoutTheirAddress() {
    RefusalRollup rollup = new RefusalRollup(sink, 2);
    for (int address = 0; address < 5; address++) {
      for (int i = 0; i < 2; i++) {
        rollup.count(refusedLogin(MINUTE.plusSeconds(address * 2 + i), "198.51.100." + address, ""), false);
      }
    }
    assertEquals(List.of("198.51.100.0", "198.51.100.1", "198.51.100.2"),
        sink.atOnce.stream().map(AuditEvent::clientIp).toList(),
        "two groups of their own, then the first past the cap (it keeps the address it came from)");
    assertEquals(3, rollup.groups(), "the cap and one group for the rest");

    rollup.flush(MINUTE.plusSeconds(30));
    List<AuditEvent> flushed = sink.flushed();
    assertEquals(List.of("", "198.51.100.0", "198.51.100.1"), flushed.stream().map(AuditEvent::clientIp).sorted()
        .toList());
    AuditEvent rest = flushed.stream().filter(e -> e.clientIp().isEmpty()).findFirst().orElseThrow();
    assertEquals(5, rest.count(), "the second of the third address and both of the fourth and fifth");
    assertEquals("address_rate_limited", rest.reason(), "still counted per type, reason and method");
    assertEquals(10, sink.atOnce.size() + flushed.stream().mapToLong(AuditEvent::count).sum(),
        "every refusal accounted for");
  }

  @Test
  void theAddressesOfOneIpv6Slash64AreOneCaller() {
    RefusalRollup rollup = new RefusalRollup(sink, 100);
    for (int i = 1; i <= 10; i++) {
      rollup.count(refusedLogin(MINUTE.plusSeconds(i), "2001:db8:5:6:" + Integer.toHexString(i) + "::1", ""), false);
    }
    rollup.count(refusedLogin(MINUTE.plusSeconds(11), "2001:db8:5:7::1", ""), false);
    assertEquals(2, sink.atOnce.size(), "one group per /64");
    assertEquals(2, rollup.groups());

    rollup.flush(MINUTE.plusSeconds(12));
    AuditEvent counted = sink.flushed().get(0);
    assertEquals(9, counted.count());
    assertEquals(AddressBlocks.of("2001:db8:5:6::1"), counted.clientIp(), "counted under the block");
  }

  @Test
  void groupsOfPastMinutesAreForgottenAfterTheirCountsAreWritten() {
    RefusalRollup rollup = new RefusalRollup(sink, 100);
    rollup.count(refusedLogin(MINUTE.plusSeconds(10), "198.51.100.7", ""), false);
    rollup.count(refusedLogin(MINUTE.plusSeconds(20), "198.51.100.7", ""), false);

    rollup.flush(MINUTE.plusSeconds(30));
    assertEquals(1, rollup.groups(), "a group of the current minute is kept");
    rollup.count(refusedLogin(MINUTE.plusSeconds(40), "198.51.100.7", ""), false);
    assertEquals(1, sink.atOnce.size(), "so the group's next refusal is counted, not written");

    rollup.flush(MINUTE.plus(Duration.ofSeconds(61)));
    assertEquals(0, rollup.groups(), "the past minute's group is gone");
    assertEquals(List.of(1L, 1L), sink.flushed().stream().map(AuditEvent::count).toList(),
        "its count was written before it was forgotten");

    AuditEvent nextMinute = refusedLogin(MINUTE.plus(Duration.ofSeconds(62)), "198.51.100.7", "");
    rollup.count(nextMinute, false);
    assertSame(nextMinute, sink.atOnce.get(1), "a new minute's first refusal is written at once");
  }

  @Test
  void manyCallersAtOnceWriteOneEventAtOnceAndCountTheRest() throws Exception {
    RefusalRollup rollup = new RefusalRollup(sink, 100);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> callers = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      for (int t = 0; t < 8; t++) {
        callers.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < 500; i++) {
            rollup.count(refusedLogin(MINUTE.plusMillis(i), "198.51.100.7", ""), false);
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> caller : callers) {
        caller.get();
      }
    }
    rollup.flush(MINUTE.plusSeconds(1));
    assertEquals(1, sink.atOnce.size(), "one first of the group");
    assertEquals(3999, sink.flushed().stream().mapToLong(AuditEvent::count).sum(), "every other one counted");
  }

  @Test
  void aFlushTheSinkRefusesIsLoggedNotThrown() {
    AuditSink refusing = new AuditSink() {
      @Override
      public void write(AuditEvent event) {}

      @Override
      public void writeAll(List<AuditEvent> events) {
        throw new IllegalStateException("the trail is away (test)");
      }
    };
    RefusalRollup rollup = new RefusalRollup(refusing, 100);
    rollup.count(refusedLogin(MINUTE.plusSeconds(1), "198.51.100.7", ""), false);
    rollup.count(refusedLogin(MINUTE.plusSeconds(2), "198.51.100.7", ""), false);
    // the background flush must survive to run again
    assertDoesNotThrow(() -> rollup.flush(MINUTE.plusSeconds(3)));
  }
}
