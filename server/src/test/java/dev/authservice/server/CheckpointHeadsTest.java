package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.Problem;
import dev.authservice.integrity.TrailReport;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.chain.AuditCheckpointer;
import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.audit.chain.AuditVerification;
import dev.authservice.server.audit.chain.ChainReads;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.audit.write.GroupCommitWriter;
import dev.authservice.server.audit.write.MvStoreAuditSpool;
import dev.authservice.server.audit.write.StoreHealth;
import dev.authservice.server.storage.mongo.MongoAuditStore;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a run's checkpoints name of the other chains, on the real store: the head of every chain
 * with events, but nothing of a chain once the run has named it at its writer's signed shutdown
 * checkpoint. Each server run registers a chain, so reading or naming every head in every
 * checkpoint grew every checkpoint (every interval, on every instance) with every restart ever
 * made; a run that crashed is still named in every one.
 */
class CheckpointHeadsTest {
  @TempDir Path dir;

  /** The store's chain reads, counting the head reads of each chain. */
  private static final class CountingReads implements ChainReads {
    private final ChainReads store;
    final Map<String, Integer> headReads = new ConcurrentHashMap<>();

    CountingReads(ChainReads store) {
      this.store = store;
    }

    @Override public List<String> chains() { return store.chains(); }
    @Override public List<ChainedEvent> chainEvents(String chain, long afterSeq, int limit) {
      return store.chainEvents(chain, afterSeq, limit);
    }
    @Override public Optional<ChainedEvent> head(String chain) {
      headReads.merge(chain, 1, Integer::sum);
      return store.head(chain);
    }
    @Override public long deleteUnchainedOlderThan(Instant cutoff, int batch) {
      return store.deleteUnchainedOlderThan(cutoff, batch);
    }
    @Override public long deleteChainThrough(String chain, long throughSeq, int batch) {
      return store.deleteChainThrough(chain, throughSeq, batch);
    }
  }

  /** One writer run: its chain, its writer and its checkpointer. */
  private final class Run implements AutoCloseable {
    final String chain;
    final GroupCommitWriter writer;
    final AuditCheckpointer checkpointer;

    Run(String instance, Trail trail, ChainReads reads, int maxHeads) throws Exception {
      chain = AuditChains.chainId(instance, trail.clock.millis());
      CheckpointStore checkpoints = trail.storage.auditCheckpoints();
      checkpoints.registerChain(chain, instance, trail.clock.instant());
      writer = new GroupCommitWriter(trail.events, MvStoreAuditSpool.open(Files.createDirectories(
          dir.resolve(instance))), new StoreHealth(() -> true), new AuditChains(chain),
          GroupCommitWriter.Settings.DEFAULTS);
      checkpointer = new AuditCheckpointer(writer, checkpoints, reads, trail.signer, trail.clock, maxHeads);
    }

    void write(int n) {
      for (int i = 0; i < n; i++) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        writer.write(new AuditEvent(UUID.randomUUID().toString(), now, AuditEventType.LOGIN, AuditOutcome.SUCCESS,
            "heads-" + i, "", "", "", "", "", "", "heads-test", "", ""));
      }
    }

    /** Writes n events and a periodic checkpoint; returns the chains it names, with their seq. */
    Map<String, Long> checkpointAfter(int n) {
      write(n);
      Checkpoint written = checkpointer.checkpoint(Checkpoint.Kind.PERIODIC).orElseThrow();
      Map<String, Long> named = new java.util.TreeMap<>();
      written.heads().forEach(h -> named.put(h.chain(), h.seq()));
      return named;
    }

    @Override
    public void close() {
      writer.close();
    }
  }

  /** A store of its own with the trail's signer, and the runs written to it, closed together. */
  private final class Trail implements AutoCloseable {
    final Clock clock;
    final TestServer.TestStore store = TestServer.TestStore.create();
    final MongoStorage storage = StorageBootstrap.open(Optional.of(store.uri()), store.dataDir(),
        store.databaseName(), Duration.ofSeconds(5), "heads-test");
    final AuditSigner signer;
    final MongoAuditStore events = storage.auditEvents();
    private final List<Run> runs = new ArrayList<>();

    Trail() {
      this(Clock.systemUTC());
    }

    Trail(Clock clock) {
      this.clock = clock;
      this.signer = TestAuditSigners.on(storage, clock);
    }

    /** A run whose checkpoints read the other chains through the store itself. */
    Run run(String instance) throws Exception {
      return run(instance, events, AuditCheckpointer.MAX_HEADS);
    }

    Run run(String instance, ChainReads reads, int maxHeads) throws Exception {
      Run run = new Run(instance, this, reads, maxHeads);
      runs.add(run);
      return run;
    }

    @Override
    public void close() {
      try {
        runs.forEach(Run::close);
        storage.close();
      } finally {
        store.release();
      }
    }
  }

  /**
   * A checkpoint names at most so many other chains (a MongoDB document must stay under 16 MB, or
   * its insert fails at every retry and the run never checkpoints again). Past that, those named
   * longest ago come first, so every chain is named in any two checkpoints in a row here, even
   * while two others keep moving: whoever writes to the store decides what moves, and made-up
   * chains kept moving must not push a crashed run's out of every checkpoint.
   */
  @Test
  void aCheckpointNamesAtMostSoManyChainsThoseNamedLongestAgoFirst() throws Exception {
    try (Trail trail = new Trail()) {
      Run crashed = trail.run("auth-crashed");
      Run moving1 = trail.run("auth-moving-1");
      Run moving2 = trail.run("auth-moving-2");
      crashed.write(1);
      Run own = trail.run("auth-own", trail.events, 2);
      java.util.Set<String> all = new java.util.TreeSet<>(List.of(crashed.chain, moving1.chain, moving2.chain));
      java.util.Set<String> previous = null;
      for (int i = 0; i < 5; i++) {
        moving1.write(1);
        moving2.write(1);
        java.util.Set<String> named = own.checkpointAfter(1).keySet();
        assertEquals(2, named.size(), "at most two: " + named);
        if (previous != null) {
          java.util.Set<String> both = new java.util.TreeSet<>(previous);
          both.addAll(named);
          assertEquals(all, both, "checkpoints " + i + " and " + (i + 1) + " name every chain between them");
        }
        previous = named;
      }
    }
  }

  @Test
  void aRunNamesAChainWhenItMovesAndStopsReadingItOnceNamedAtItsShutdown() throws Exception {
    try (Trail trail = new Trail()) {
      MongoStorage storage = trail.storage;
      MongoAuditStore events = trail.events;
      Clock clock = trail.clock;
      CountingReads reads = new CountingReads(events);
      Run stopped = trail.run("auth-stopped");
      Run crashed = trail.run("auth-crashed");
      Run own = trail.run("auth-own", reads, AuditCheckpointer.MAX_HEADS);
      stopped.write(3);
      stopped.checkpointer.checkpoint(Checkpoint.Kind.SHUTDOWN).orElseThrow();
      crashed.write(2);

      assertEquals(Map.of(stopped.chain, 3L, crashed.chain, 2L), own.checkpointAfter(1),
          "a run's first checkpoint names every other chain with events");
      Map<String, Long> crashedOnly = Map.of(crashed.chain, 2L);
      assertEquals(crashedOnly, own.checkpointAfter(1),
          "the stopped chain, named at its shutdown checkpoint, is not named again; the crashed one is");
      int stoppedReads = reads.headReads.get(stopped.chain);
      for (int i = 0; i < 3; i++) {
        assertEquals(crashedOnly, own.checkpointAfter(1), "a chain that did not shut down is named every time");
      }
      assertEquals(stoppedReads, reads.headReads.get(stopped.chain),
          "a chain named at its shutdown checkpoint is not read again");
      assertEquals(5, reads.headReads.get(crashed.chain), "a chain that did not shut down is read every time");

      // a shutdown checkpoint its writer did not sign, put in the store at the crashed run's head
      ChainedEvent crashedHead = events.head(crashed.chain).orElseThrow();
      storage.auditCheckpoints().insert(new Checkpoint(Checkpoint.Kind.SHUTDOWN, crashed.chain, crashedHead.seq(),
          crashedHead.hash(), clock.millis(), List.of(), "0".repeat(64), "", List.of()).withSignature("forged"));
      for (int i = 0; i < 2; i++) {
        assertEquals(crashedOnly, own.checkpointAfter(1), "an unsigned shutdown checkpoint does not silence the claims");
      }
      assertEquals(7, reads.headReads.get(crashed.chain), "nor stop the reads");

      crashed.write(4);
      assertEquals(Map.of(crashed.chain, 6L), own.checkpointAfter(1), "its new head when it moves");

      TrailReport report = new AuditVerification(events, storage.auditCheckpoints(), trail.signer, 1_000)
          .verify(Optional.empty(), Optional.empty(), () -> false);
      assertTrue(report.chains().stream().filter(c -> !c.chain().equals(crashed.chain))
          .allMatch(c -> c.problem().isEmpty() && c.lastCheckpointMillis().isPresent()), report.toString());
      assertTrue(report.chains().stream().filter(c -> c.chain().equals(crashed.chain))
          .allMatch(c -> c.problem().equals(Optional.of(Problem.BAD_CHECKPOINT))), "the forged one is found");
    }
  }

  /**
   * A run that never wrote (or whose events retention removed) and a run that crashed are asked
   * about less: the first is not read at every checkpoint, and the second is read to see it move
   * but not asked for a shutdown checkpoint each time; both came back at every checkpoint, one or
   * two queries each, a cost that grew with every restart ever made. A run that starts writing is
   * named within {@link AuditCheckpointer#RECHECK}.
   */
  @Test
  void aRunWithoutEventsIsLookedAtAgainOnlyAfterAWhileAndNamedOnceItWrites() throws Exception {
    MutableClock clock = new MutableClock(Instant.now());
    try (Trail trail = new Trail(clock)) {
      CountingReads reads = new CountingReads(trail.events);
      Run silent = trail.run("auth-silent");
      Run crashed = trail.run("auth-crashed");
      crashed.write(2);
      Run own = trail.run("auth-own", reads, AuditCheckpointer.MAX_HEADS);
      // ten minutes of checkpoints every 10 s: a run already registered at this run's start (most
      // such runs are long over) is looked at once a minute
      for (int i = 0; i < 60; i++) {
        assertEquals(Map.of(crashed.chain, 2L), own.checkpointAfter(1), "the crashed run is named every time");
        clock.advance(Duration.ofSeconds(10));
      }
      assertEquals(10, reads.headReads.get(silent.chain), "a run without events, read once a minute");
      assertEquals(60, reads.headReads.get(crashed.chain), "a crashed run, read every time to see it move");

      silent.write(1);
      clock.advance(AuditCheckpointer.RECHECK);
      assertEquals(Map.of(crashed.chain, 2L, silent.chain, 1L), own.checkpointAfter(1),
          "a run that starts writing is named within the recheck");

      // a run registered since, looked at before its first event, then writing: named within seconds
      Run late = trail.run("auth-late");
      assertEquals(Map.of(crashed.chain, 2L, silent.chain, 1L), own.checkpointAfter(1));
      late.write(1);
      clock.advance(AuditCheckpointer.FIRST_RECHECK);
      assertEquals(Map.of(crashed.chain, 2L, silent.chain, 1L, late.chain, 1L), own.checkpointAfter(1),
          "named at the first look after it wrote, within seconds");

      // one that stays silent is looked at after 5, 10, 20, 40 s, then once a minute
      Run quiet = trail.run("auth-quiet");
      for (int i = 0; i < 60; i++) {
        own.checkpointAfter(1);
        clock.advance(Duration.ofSeconds(10));
      }
      assertEquals(13, reads.headReads.get(quiet.chain), "looks at 0, 10, 20, 40, 80 s, then every minute");
    }
  }
}
