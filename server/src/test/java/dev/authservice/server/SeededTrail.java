package dev.authservice.server;

import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.Hashes;
import dev.authservice.server.audit.AuditChains;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.AuditSigner;
import dev.authservice.server.audit.AuditStore;
import dev.authservice.server.audit.CheckpointStore;
import dev.authservice.server.audit.EventIds;
import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.token.KeyEncryption;
import dev.authservice.server.token.SigningAlgorithm;
import dev.authservice.server.token.SigningKeys;
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
  private final AuditStore events;
  private final CheckpointStore checkpoints;
  private final AuditSigner signer;

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

  /** The page token codec every instance of this store shares. */
  dev.authservice.server.paging.PageTokens pageTokens() {
    return new dev.authservice.server.paging.PageTokens(storage.sharedSecret(MongoStorage.PAGE_TOKEN_SECRET));
  }

  /** A writer run of {@code instance} that started at {@code started}. */
  Run run(String instance, Instant started) {
    String chain = AuditChains.chainId(instance, started.toEpochMilli());
    checkpoints.registerChain(chain, instance, started);
    return new Run(instance, new AuditChains(chain));
  }

  /** One writer run's chain. */
  final class Run {
    private final String instance;
    private final AuditChains chain;
    private AuditEvent last;

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
    }

    /** The signed shutdown checkpoint a graceful stop writes: nothing of the chain comes after it. */
    void shutdown(Instant at) {
      Checkpoint unsigned = new Checkpoint(Checkpoint.Kind.SHUTDOWN, chain.chain(), last.seq(), last.hash(),
          at.toEpochMilli(), new ArrayList<>(), Hashes.ZERO, "");
      checkpoints.insert(unsigned.withSignature(signer.sign(unsigned)));
    }
  }

  @Override
  public void close() {
    storage.close();
  }
}
