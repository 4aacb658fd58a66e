package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditSink;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.chain.ChainHeads;

import dev.authservice.server.core.ServiceException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit for audit events: RPC threads enqueue, one writer thread takes everything
 * waiting (up to a batch) and writes it with one unordered, idempotent insert; a second thread
 * makes everything written so far durable in one go and only then releases the RPCs. The two
 * stages overlap, so the next batch is being written while the previous one is synced. The
 * queue is bounded: when full, callers wait a bounded time and then get RESOURCE_EXHAUSTED.
 *
 * <p>When the store is unreachable, batches go to the local spool instead (durable before the
 * RPCs answer), and every batch after them too, so that order holds; once the store answers
 * again the spool is replayed, oldest first, before it is bypassed again.
 */
public final class GroupCommitWriter implements AuditSink, ChainHeads, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitWriter.class);
  private static final int REPLAY_CHUNK = 1000;

  /** Queue and batch bounds and the waits callers accept. */
  public record Settings(int queueCapacity, int maxBatch, Duration enqueueTimeout, Duration durableTimeout) {
    public static final Settings DEFAULTS = new Settings(20_000, 1000, Duration.ofMillis(500), Duration.ofSeconds(10));
  }

  /**
   * The events of one call waiting to be written, queued as one and never split across batches:
   * a call's events are all written or none (a LOGIN success never durable without its
   * TOKEN_ISSUE while the call itself was refused); {@code queuedAt} (System.nanoTime) times
   * their way to durable.
   */
  private record Pending(List<AuditEvent> events, CompletableFuture<Void> done, long queuedAt) {}

  /** A batch sealed into the chain, with the RPCs waiting for it. */
  private record Sealed(List<AuditEvent> events, List<Pending> waiting) {
    void complete() {
      waiting.forEach(p -> p.done().complete(null));
    }

    /** One wait per event (a call's events share theirs), so that the metrics count events. */
    List<Duration> waited() {
      long now = System.nanoTime();
      return waiting.stream()
          .flatMap(p -> java.util.Collections.nCopies(p.events().size(), Duration.ofNanos(now - p.queuedAt())).stream())
          .toList();
    }

    void fail(Throwable e) {
      waiting.forEach(p -> p.done().completeExceptionally(e));
    }
  }


  private final EventWrites store;
  private final AuditSpool spool;
  private final AuditChains chains;
  private volatile Head durableHead;
  private final StoreHealth health;
  private final Settings settings;
  private final WriterMetrics metrics;
  private final BlockingQueue<Pending> queue;
  /** Batches the store acknowledged, waiting to be made durable. */
  private final BlockingQueue<Sealed> written = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final Thread syncer;
  private volatile boolean running = true;
  private volatile boolean writing = true;
  /** Sealed numbers neither the store nor the spool took, not yet in a signed checkpoint. */
  private final List<dev.authservice.integrity.Checkpoint.Lost> unrecordedLosses = new ArrayList<>();

  public GroupCommitWriter(EventWrites store, AuditSpool spool, StoreHealth health, AuditChains chains,
      Settings settings) {
    this(store, spool, health, chains, settings, WriterMetrics.NONE);
  }

  public GroupCommitWriter(EventWrites store, AuditSpool spool, StoreHealth health, AuditChains chains,
      Settings settings, WriterMetrics metrics) {
    this.metrics = metrics;
    this.store = store;
    this.spool = spool;
    this.chains = chains;
    this.durableHead = new Head(chains.chain(), 0, dev.authservice.integrity.Hashes.ZERO);
    this.health = health;
    this.settings = settings;
    this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
    this.writer = new Thread(this::write, "audit-writer");
    this.syncer = new Thread(this::sync, "audit-sync");
    writer.setDaemon(true);
    syncer.setDaemon(true);
    writer.start();
    syncer.start();
  }

  @Override
  public void write(AuditEvent event) {
    writeAll(List.of(event));
  }

  @Override
  public void writeAll(List<AuditEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    try {
      Pending pending = new Pending(List.copyOf(events), new CompletableFuture<>(), System.nanoTime());
      if (!running || !queue.offer(pending, settings.enqueueTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        throw new ServiceException(ServiceException.Kind.EXHAUSTED,
            "the audit trail cannot keep up right now; retry shortly");
      }
      pending.done().get(settings.durableTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE, "interrupted while recording the audit event");
    } catch (TimeoutException e) {
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE,
          "the audit event could not be made durable in time; retry shortly");
    } catch (ExecutionException e) {
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE,
          "the audit event could not be recorded; retry shortly", e.getCause());
    }
  }

  /** Calls' events queued (a call's events count once), not yet taken by the writer thread. */
  public int queued() {
    return queue.size();
  }

  /** Events spooled locally, waiting for the store. */
  public long spooled() {
    return spool.size();
  }

  /** The last event of this writer's chain that is durable (seq 0 before the first). */
  @Override
  public Head durableHead() {
    return durableHead;
  }

  @Override
  public String chain() {
    return chains.chain();
  }

  private void write() {
    List<Pending> batch = new ArrayList<>(settings.maxBatch());
    try {
      while (running || !queue.isEmpty()) {
        try {
          Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
          if (first != null) {
            batch.add(first);
            takeUpTo(batch, settings.maxBatch() - first.events().size());
            persist(List.copyOf(batch));
            batch.clear();
          }
          replayOneChunk();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        } catch (RuntimeException e) {
          log.error("audit writer: unexpected failure", e);
          batch.forEach(p -> p.done().completeExceptionally(e));
          batch.clear();
        }
      }
    } finally {
      writing = false;
    }
  }

  /** Whole calls' events from the queue while they fit in {@code room} more events (this thread alone takes). */
  private void takeUpTo(List<Pending> batch, int room) {
    for (Pending next = queue.peek(); next != null && next.events().size() <= room; next = queue.peek()) {
      batch.add(queue.poll());
      room -= next.events().size();
    }
  }

  private void persist(List<Pending> batch) {
    // sealed once, in write order, before either destination: a spooled event keeps its place
    Sealed sealed = new Sealed(chains.seal(batch.stream().flatMap(p -> p.events().stream()).toList()), batch);
    if (health.reachable() && spool.size() == 0) {
      try {
        store.insertAll(sealed.events());
        written.add(sealed);
        return;
      } catch (RuntimeException e) {
        health.reportFailure(e);
      }
    }
    try {
      spool.append(sealed.events());
      durable(sealed, WriterMetrics.Destination.SPOOL);
    } catch (RuntimeException e) {
      List<AuditEvent> lost = sealed.events();
      log.error("audit writer: neither the store nor the local spool took {} events (seq {} to {}); the next"
          + " checkpoint records them as lost", lost.size(), lost.get(0).seq(), lost.get(lost.size() - 1).seq(), e);
      recordLoss(lost);
      sealed.fail(e);
    }
  }

  /**
   * Their numbers and hashes are part of the chain now (the next event links to the last one), so
   * the loss is said in the next signed checkpoint; without that, a verifier would take the gap
   * for deleted events.
   */
  private synchronized void recordLoss(List<AuditEvent> lost) {
    AuditEvent first = lost.get(0);
    AuditEvent last = lost.get(lost.size() - 1);
    int n = unrecordedLosses.size();
    if (n > 0 && unrecordedLosses.get(n - 1).toSeq() + 1 == first.seq()) {
      var previous = unrecordedLosses.get(n - 1);
      unrecordedLosses.set(n - 1, new dev.authservice.integrity.Checkpoint.Lost(previous.fromSeq(), last.seq(),
          previous.prevHash(), last.hash(), previous.reason()));
    } else {
      unrecordedLosses.add(new dev.authservice.integrity.Checkpoint.Lost(first.seq(), last.seq(), first.prevHash(),
          last.hash(), "store_and_spool_unavailable"));
    }
  }

  /** Losses the next checkpoint must record. */
  @Override
  public synchronized List<dev.authservice.integrity.Checkpoint.Lost> unrecordedLosses() {
    return List.copyOf(unrecordedLosses);
  }

  /** A checkpoint recording these losses is durable. */
  @Override
  public synchronized void lossesRecorded(List<dev.authservice.integrity.Checkpoint.Lost> recorded) {
    unrecordedLosses.removeAll(recorded);
  }

  private void durable(Sealed batch, WriterMetrics.Destination destination) {
    AuditEvent last = batch.events().get(batch.events().size() - 1);
    synchronized (this) {
      // the syncer and the spool path both get here; the head only moves forward
      if (last.seq() > durableHead.seq()) {
        durableHead = new Head(last.chain(), last.seq(), last.hash());
      }
    }
    try {
      metrics.durable(destination, batch.waited());
    } catch (RuntimeException e) {
      log.warn("audit writer: could not record metrics: {}", e.toString());
    }
    batch.complete();
  }

  /** Makes every acknowledged batch durable, then releases its RPCs; many batches share one sync. */
  private void sync() {
    List<Sealed> batches = new ArrayList<>();
    while (writing || !written.isEmpty()) {
      try {
        Sealed first = written.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batches.add(first);
        written.drainTo(batches);
        try {
          store.sync();
          batches.forEach(batch -> durable(batch, WriterMetrics.Destination.STORE));
        } catch (RuntimeException e) {
          log.error("audit writer: {} acknowledged batches could not be made durable", batches.size(), e);
          batches.forEach(batch -> batch.fail(e));
        }
        batches.clear();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Moves the oldest spooled events to the store, if it answers. */
  private void replayOneChunk() {
    if (!health.reachable() || spool.size() == 0) {
      return;
    }
    List<AuditSpool.Spooled> chunk = spool.oldest(REPLAY_CHUNK);
    if (chunk.isEmpty()) {
      return;
    }
    try {
      store.insertAll(chunk.stream().map(AuditSpool.Spooled::event).toList());
      store.sync();
      spool.removeThrough(chunk.get(chunk.size() - 1).position());
      if (spool.size() == 0) {
        log.info("audit spool replayed into the store");
      }
    } catch (RuntimeException e) {
      health.reportFailure(e);
    }
  }

  /** Writes what is queued, makes it durable, then stops; replays what it can within the wait. */
  @Override
  public void close() {
    running = false;
    try {
      writer.join(TimeUnit.SECONDS.toMillis(15));
      syncer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    spool.close();
  }
}
