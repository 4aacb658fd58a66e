package dev.authservice.server.audit.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.Await;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.audit.write.MvStoreAuditSpool;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's batching and backpressure, against a store that stalls while the callers keep coming. */
class GroupCommitWriterTest {
  @TempDir Path dir;

  /**
   * A store that stalls: it takes no write until the test opens it (as a store stuck on a slow
   * disk or an election would), then takes every one at once; it remembers the batch sizes.
   */
  private static final class StalledStore implements EventWrites {
    final List<Integer> batches = new CopyOnWriteArrayList<>();
    final List<String> written = new CopyOnWriteArrayList<>();
    final AtomicInteger entered = new AtomicInteger();
    private final CountDownLatch open = new CountDownLatch(1);

    void open() {
      open.countDown();
    }

    @Override
    public void insertAll(List<AuditEvent> events) {
      entered.incrementAndGet();
      try {
        open.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      batches.add(events.size());
      events.forEach(e -> written.add(e.id()));
    }

    @Override
    public void restoreAll(List<AuditEvent> events) {
      insertAll(events);
    }

    @Override
    public void sync() {
      // acknowledged is durable here
    }

  }

  private static AuditEvent event() {
    return new AuditEvent(UUID.randomUUID().toString(), Instant.now(), AuditEventType.TOKEN_VALIDATE,
        AuditOutcome.SUCCESS, "u", "", "", "", "", "", "", "test", "", "");
  }

  /**
   * A login's LOGIN and TOKEN_ISSUE events under pressure: the queue has room for one more entry
   * while the store stalls. The call is refused or answered, and its events are written both or
   * neither; never a LOGIN success in the trail for a call that was refused, without its TOKEN_ISSUE.
   */
  @Test
  void aCallsEventsAreWrittenTogetherOrNotAtAllWhenTheQueueIsFull() throws Exception {
    StalledStore store = new StalledStore();
    GroupCommitWriter writer = new GroupCommitWriter(store, MvStoreAuditSpool.open(dir), new StoreHealth(() -> true),
        new AuditChains("test:1"), new GroupCommitWriter.Settings(1, 4, Duration.ofMillis(20), Duration.ofSeconds(30)));
    ExecutorService callers = Executors.newFixedThreadPool(2);
    AuditEvent login = event();
    AuditEvent issue = event();
    try {
      // another call's event: the writer takes it and waits on the stalled store; the queue is empty
      Future<?> other = callers.submit(() -> writer.write(event()));
      Await.until("the writer waits on the store", 10, () -> store.entered.get() == 1 && writer.queued() == 0);
      Future<?> pair = callers.submit(() -> writer.writeAll(List.of(login, issue)));
      // refused within the enqueue timeout, or queued whole and waiting for the store
      Await.within(2, pair::isDone);
      store.open();
      other.get();
      boolean answered;
      try {
        pair.get();
        answered = true;
      } catch (java.util.concurrent.ExecutionException e) {
        assertTrue(e.getCause() instanceof ServiceException s && s.kind() == ServiceException.Kind.EXHAUSTED, e.toString());
        answered = false;
      }
      boolean loginWritten = store.written.contains(login.id());
      boolean issueWritten = store.written.contains(issue.id());
      assertEquals(loginWritten, issueWritten, "one of a call's two events written without the other: " + store.written);
      assertEquals(answered, loginWritten, "the call's events are written exactly when the call is answered");
    } finally {
      store.open();
      callers.shutdown();
      writer.close();
    }
  }

  @Test
  void concurrentEventsAreWrittenTogetherAndAnOverloadIsRefusedNotBuffered() throws Exception {
    StalledStore store = new StalledStore();
    GroupCommitWriter writer = new GroupCommitWriter(store, MvStoreAuditSpool.open(dir), new StoreHealth(() -> true),
        new AuditChains("test:1"), new GroupCommitWriter.Settings(8, 4, Duration.ofMillis(20), Duration.ofSeconds(10)));
    ExecutorService callers = Executors.newFixedThreadPool(32);
    AtomicInteger written = new AtomicInteger();
    AtomicInteger exhausted = new AtomicInteger();
    try {
      List<Future<?>> calls = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        calls.add(callers.submit(() -> {
          try {
            writer.write(event());
            written.incrementAndGet();
          } catch (ServiceException e) {
            assertEquals(ServiceException.Kind.EXHAUSTED, e.kind());
            exhausted.incrementAndGet();
          }
        }));
      }
      // while the store takes nothing, the queue of 8 fills and the callers past it are refused
      Await.until("a caller refused while the store stalls", 10, () -> exhausted.get() > 0);
      store.open();
      for (Future<?> call : calls) {
        call.get();
      }
    } finally {
      store.open();
      callers.shutdown();
      writer.close();
    }
    assertEquals(200, written.get() + exhausted.get());
    assertTrue(exhausted.get() > 0, "a stalled store cannot take 200 concurrent events through a queue of 8");
    assertTrue(store.batches.stream().anyMatch(size -> size > 1), "events were grouped: " + store.batches);
    assertTrue(store.batches.stream().allMatch(size -> size <= 4), "no batch above the maximum");
    assertEquals(written.get(), store.batches.stream().mapToInt(Integer::intValue).sum(),
        "every event a caller was told is written, was written");
  }
}
