package dev.authservice.server;

import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.Hashes;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.storage.mongo.MongoAuditStore;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.audit.EventIds;
import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.keys.KeyEncryption;
import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKeys;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Writes audit chains into a test server's store the way server runs write them, only faster:
 * each run registers its chain, seals its events with {@link AuditChains} (real hash chains),
 * and, if it stops gracefully, signs a shutdown checkpoint with the trail's audit key. Many
 * runs of long, pod-style instance ids cost milliseconds each instead of a server start.
 */
final class SeededTrail implements AutoCloseable {
  private final MongoStorage storage;
  private final MongoAuditStore events;
  private final CheckpointStore checkpoints;
  private final AuditSigner signer;
  /** The runs written so far that have not stopped with a checkpoint of their own. */
  private final java.util.Map<String, Run> open = new java.util.LinkedHashMap<>();

  SeededTrail(TestServer server) {
    this.storage = StorageBootstrap.open(server.config().mongoUri(), server.config().dataDir().resolve("seeder"),
        server.config().database(), Duration.ofSeconds(5), "seeder");
    this.events = storage.auditEvents();
    this.checkpoints = storage.auditCheckpoints();
    SigningKeys auditKeys = SigningKeys.neverRetiring(
        storage.auditSigningKeys(KeyEncryption.of(Optional.empty(), true)), Clock.systemUTC(), SigningAlgorithm.EdDSA);
    auditKeys.loadOrCreate();
    this.signer = new AuditSigner(auditKeys);
  }

  /** The trail's events, as a server reads them. */
  MongoAuditStore events() {
    return events;
  }

  /** The trail's chain register and checkpoints, as a server reads them. */
  CheckpointStore checkpoints() {
    return checkpoints;
  }

  /** The page token codec every instance of this store shares. */
  dev.authservice.server.paging.PageTokens pageTokens() {
    return new dev.authservice.server.paging.PageTokens(storage.sharedSecret(MongoStorage.PAGE_TOKEN_SECRET));
  }

  /** A writer run of {@code instance} that started at {@code started}. */
  Run run(String instance, Instant started) {
    String chain = AuditChains.chainId(instance, started.toEpochMilli());
    checkpoints.registerChain(chain, instance, started);
    Run run = new Run(instance, new AuditChains(chain));
    open.put(chain, run);
    return run;
  }

  /**
   * What a store writer who knows the hash construction forges: events of {@code instance} at
   * {@code times}, chained with correct hashes onto {@code chain} after its current head (seq 1
   * when it has none), written straight to the events collection. Nothing registers the chain.
   */
  List<AuditEvent> forge(String chain, String instance, List<Instant> times) {
    Optional<dev.authservice.integrity.ChainedEvent> head = events.head(chain);
    long seq = head.map(dev.authservice.integrity.ChainedEvent::seq).orElse(0L);
    String prev = head.map(dev.authservice.integrity.ChainedEvent::hash).orElse(Hashes.ZERO);
    List<AuditEvent> forged = new ArrayList<>();
    for (Instant time : times) {
      seq++;
      Instant millis = Instant.ofEpochMilli(time.toEpochMilli());
      AuditEvent positioned = new AuditEvent(EventIds.at(millis), millis, AuditEventType.LOGIN, AuditOutcome.SUCCESS,
          "mallory", "subject-mallory", "", "10.6.6.6", "forged", "auth.v1.AuthService/Login", "", instance, "", "")
          .sealed(chain, seq, prev, "");
      AuditEvent sealed = positioned.sealed(chain, seq, prev, dev.authservice.integrity.Hashes.of(
          AuditChains.toChained(positioned)));
      forged.add(sealed);
      prev = sealed.hash();
    }
    events.insertAll(forged);
    events.sync();
    return forged;
  }

  /** One writer run's chain. */
  final class Run {
    private final String instance;
    private final AuditChains chain;
    private AuditEvent last;
    /** The newest of its events in the store: what another chain's checkpoint names. */
    private AuditEvent stored;

    private Run(String instance, AuditChains chain) {
      this.instance = instance;
      this.chain = chain;
    }

    String chain() {
      return chain.chain();
    }

    /** Seals and stores one event of {@code username} at {@code time}. */
    AuditEvent write(AuditEventType type, String username, Instant time) {
      return writeAll(List.of(event(type, username, time))).get(0);
    }

    /** An unsealed event of this run, as AuditLog would make it. */
    AuditEvent event(AuditEventType type, String username, Instant time) {
      Instant millis = Instant.ofEpochMilli(time.toEpochMilli());
      return new AuditEvent(EventIds.at(millis), millis, type, AuditOutcome.SUCCESS, username, "subject-" + username,
          "", "10.1.2.3", "seeded", "auth.v1.AuthService/Login", "", instance, "", "");
    }

    /** Seals the events into the chain, in order, and stores them. */
    List<AuditEvent> writeAll(List<AuditEvent> unsealed) {
      List<AuditEvent> sealed = chain.seal(unsealed);
      events.insertAll(sealed);
      events.sync();
      last = sealed.get(sealed.size() - 1);
      stored = last;
      return sealed;
    }

    /** Seals the events now but keeps them back: what a run spools while the store is away. */
    List<AuditEvent> sealOnly(List<AuditEvent> unsealed) {
      List<AuditEvent> sealed = chain.seal(unsealed);
      last = sealed.get(sealed.size() - 1);
      return sealed;
    }

    /** Stores events sealed earlier: a spool replayed. */
    void land(List<AuditEvent> sealed) {
      events.insertAll(sealed);
      events.sync();
      AuditEvent newest = sealed.get(sealed.size() - 1);
      stored = stored == null || newest.seq() > stored.seq() ? newest : stored;
    }

    /**
     * The signed shutdown checkpoint a graceful stop writes: nothing of the chain comes after it.
     * Like a server's, it names the heads of the other chains: here those of the seeded runs that
     * have not stopped with a checkpoint of their own (crashed, or still going); naming the
     * others too would only repeat what their own shutdown checkpoints say.
     */
    void shutdown(Instant at) {
      open.remove(chain.chain());
      List<Checkpoint.Head> heads = new ArrayList<>();
      for (Run other : open.values()) {
        if (other.stored != null) {
          heads.add(new Checkpoint.Head(other.chain(), other.stored.seq(), other.stored.hash()));
        }
      }
      Checkpoint unsigned = new Checkpoint(Checkpoint.Kind.SHUTDOWN, chain.chain(), last.seq(), last.hash(),
          at.toEpochMilli(), heads, Hashes.ZERO, "");
      checkpoints.insert(unsigned.withSignature(signer.sign(unsigned)));
    }
  }

  @Override
  public void close() {
    storage.close();
  }
}
