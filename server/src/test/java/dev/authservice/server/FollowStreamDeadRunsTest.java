package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.read.AuditStream;
import dev.authservice.server.audit.read.StreamPosition;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A follow stream over a trail of many runs that will write no more (crashed, or their events
 * removed by retention): every server run adds one, and the stream polled each every 5 s and read
 * the whole register of runs every half second, so its cost grew with every restart ever made.
 * Now quiet runs are polled less and less often, down to once a minute, and the register is read
 * again only when it changed; a quiet run that writes again is still delivered within that minute.
 */
class FollowStreamDeadRunsTest {
  private static final int DEAD_RUNS = 150;
  private static final long HALF_SECOND = Duration.ofMillis(500).toNanos();

  @Test
  void quietRunsCostAFollowStreamLessAndLessAndTheRegisterIsReadOnlyWhenItChanged() {
    try (TestServer server = TestServer.start(); SeededTrail seeder = new SeededTrail(server)) {
      Instant now = Instant.now();
      SeededTrail.Run[] dead = new SeededTrail.Run[DEAD_RUNS];
      for (int r = 0; r < DEAD_RUNS; r++) {
        Instant started = now.minus(Duration.ofHours(5)).plusSeconds(r);
        dead[r] = seeder.run("gone-" + r, started);
        dead[r].write(AuditEventType.LOGIN, "user-" + r, started.plusSeconds(1));
      }
      SeededTrail.Run live = seeder.run("live", now.minusSeconds(60));
      live.write(AuditEventType.LOGIN, "someone", now.minusSeconds(30));

      CountingEventReads reads = new CountingEventReads(seeder.events());
      AtomicLong registerReads = new AtomicLong();
      CheckpointStore checkpoints = counting(seeder.checkpoints(), registerReads);
      AtomicLong clock = new AtomicLong();
      AuditFilter everything = new AuditFilter(Set.of(), Optional.empty(), Optional.empty(), Optional.empty(),
          Optional.empty(), Optional.empty(), Optional.empty());
      AuditStream stream = new AuditStream(reads, checkpoints, everything, StreamPosition.START, false, clock::get);

      // ten minutes of following, a look every half second (the sender's pace when nothing is new)
      for (int i = 0; i < 1_200; i++) {
        stream.next(1_000);
        clock.addAndGet(HALF_SECOND);
      }
      long pages = reads.pagesOf("gone-");
      // each dead run polled about 14 times in ten minutes (after 5, 10, 20, 40 s, then each minute),
      // against 120 at one poll every 5 s (the live runs are asked at every look, as they should be)
      assertTrue(pages <= DEAD_RUNS * 20L, "chain pages asked for in ten minutes: " + pages);
      // once a minute at most when nothing registers, against every half second
      assertTrue(registerReads.get() <= 12, "whole register reads in ten minutes: " + registerReads.get());

      // a quiet run writes again: delivered within the longest backoff
      AuditEvent late = dead[7].write(AuditEventType.LOGIN, "back", now.plusSeconds(1));
      boolean seen = false;
      long waited = 0;
      while (!seen && waited <= AuditStream.STALE_POLL_MAX.toNanos() + 2 * HALF_SECOND) {
        seen = stream.next(1_000).stream().anyMatch(d -> d.event().id().equals(late.id()));
        clock.addAndGet(HALF_SECOND);
        waited += HALF_SECOND;
      }
      assertTrue(seen, "the quiet run's new event reached the stream within a minute");
    }
  }

  private static CheckpointStore counting(CheckpointStore real, AtomicLong registerReads) {
    return (CheckpointStore) Proxy.newProxyInstance(CheckpointStore.class.getClassLoader(),
        new Class<?>[] {CheckpointStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("registeredChains")) {
            registerReads.incrementAndGet();
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
