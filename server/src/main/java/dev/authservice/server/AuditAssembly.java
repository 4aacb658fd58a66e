package dev.authservice.server;

import dev.authservice.integrity.Checkpoint;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.chain.AuditCheckpointer;
import dev.authservice.server.audit.chain.AuditVerification;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.audit.chain.RetentionSweeper;
import dev.authservice.server.audit.write.EventWrites;
import dev.authservice.server.audit.write.GroupCommitWriter;
import dev.authservice.server.audit.write.JournaledEventWrites;
import dev.authservice.server.audit.write.RefusalRollup;
import dev.authservice.server.audit.write.StoreHealth;
import dev.authservice.server.audit.write.ValidationRollup;
import dev.authservice.server.review.ReviewSchedule;
import dev.authservice.server.review.SuspiciousActivityReview;
import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.telemetry.DomainMetrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * The audit trail of this instance: its chain, the group-commit writer and spool, the log every
 * use case records through, the rollups, checkpoints, verification, retention and the review.
 */
final class AuditAssembly implements AutoCloseable {
  private static final Duration STORE_PROBE_INTERVAL = Duration.ofSeconds(1);

  final MongoStorage.AuditPorts events;
  final CheckpointStore checkpoints;
  final StoreHealth health;
  final GroupCommitWriter writer;
  final AuditLog log;
  final AuditVerification verification;
  final SuspiciousActivityReview review;
  final Optional<ValidationRollup> validationRollup;
  /** On the embedded store: what makes the writer's events durable between the store's commits. */
  private final Optional<JournaledEventWrites> journal;
  private final RefusalRollup refusals;
  private final AuditCheckpointer checkpointer;
  private final KeyAssembly keys;
  private final Clock clock;

  private AuditAssembly(MongoStorage.AuditPorts events, CheckpointStore checkpoints, StoreHealth health,
      GroupCommitWriter writer, Optional<JournaledEventWrites> journal, RefusalRollup refusals,
      Optional<ValidationRollup> validationRollup, AuditLog log, AuditCheckpointer checkpointer,
      AuditVerification verification, SuspiciousActivityReview review, KeyAssembly keys, Clock clock) {
    this.events = events;
    this.journal = journal;
    this.checkpoints = checkpoints;
    this.health = health;
    this.writer = writer;
    this.refusals = refusals;
    this.validationRollup = validationRollup;
    this.log = log;
    this.checkpointer = checkpointer;
    this.verification = verification;
    this.review = review;
    this.keys = keys;
    this.clock = clock;
  }

  /** Registers this run's chain and starts its writer. */
  static AuditAssembly open(MongoStorage storage, ServerConfig config, KeyAssembly keys, Clock clock,
      DomainMetrics metrics) {
    MongoStorage.AuditPorts events = storage.auditPorts();
    // before this run's chain exists: the events an unclean stop left in the journal come back first
    Optional<JournaledEventWrites> journal = config.mongoUri().isPresent() ? Optional.empty()
        : Optional.of(StorageBootstrap.auditJournal(events.writes(), config.dataDir()));
    if (config.mongoUri().isPresent() && JournaledEventWrites.segmentsIn(config.dataDir()) > 0) {
      LoggerFactory.getLogger(AuditAssembly.class).warn("{} holds an audit journal (audit-journal.*) that the embedded"
          + " store's last run left unreplayed; it is not replayed into MONGODB_URI. Start once without"
          + " MONGODB_URI to restore those events into the embedded store", config.dataDir());
    }
    try {
      return open(storage, config, keys, clock, metrics, events, journal);
    } catch (RuntimeException | Error e) {
      // a start that fails here leaves no journal file open (its events stay for the next start)
      journal.ifPresent(j -> {
        try {
          j.close();
        } catch (RuntimeException closing) {
          e.addSuppressed(closing);   // the start's own failure is the one to report
        }
      });
      throw e;
    }
  }

  private static AuditAssembly open(MongoStorage storage, ServerConfig config, KeyAssembly keys, Clock clock,
      DomainMetrics metrics, MongoStorage.AuditPorts events, Optional<JournaledEventWrites> journal) {
    EventWrites writes = journal.<EventWrites>map(j -> j).orElse(events.writes());
    CheckpointStore checkpoints = storage.auditCheckpoints();
    String chain = AuditChains.chainId(config.instanceId(), clock.millis());
    checkpoints.registerChain(chain, config.instanceId(), clock.instant());
    StoreHealth health = new StoreHealth(storage::ping);
    GroupCommitWriter writer = new GroupCommitWriter(writes, StorageBootstrap.auditSpool(config.dataDir()), health,
        new AuditChains(chain), GroupCommitWriter.Settings.DEFAULTS, metrics);
    RefusalRollup refusals = new RefusalRollup(writer, config.refusalRollupMaxKeys());
    Optional<ValidationRollup> validationRollup = config.validationAudit() == ValidationAuditMode.ROLLUP
        ? Optional.of(new ValidationRollup(writer)) : Optional.empty();
    return new AuditAssembly(events, checkpoints, health, writer, journal, refusals, validationRollup,
        new AuditLog(writer, refusals, clock, config.instanceId()),
        new AuditCheckpointer(writer, checkpoints, events.chains(), keys.auditSigner(), clock),
        new AuditVerification(events.chains(), checkpoints, keys.auditSigner(),
            config.analytics().verifyMaxCheckpoints()),
        new SuspiciousActivityReview(config.review(), events.reads(), writer, storage.reviewLeases(), clock,
            config.instanceId(), metrics),
        keys, clock);
  }

  /** The trail's gauges: queue and spool depth, how long since a checkpoint covered the chain, key ages. */
  DomainMetrics.Gauges gauges() {
    return new DomainMetrics.Gauges(writer::queued, writer::spooled, checkpointer::coveredAt,
        () -> keys.tokenKeys().current().createdAt(), () -> keys.auditKeys().current().createdAt(), clock);
  }

  void schedule(Background background, ServerConfig config) {
    journal.ifPresent(j -> Background.every(background.journal, config.embeddedJournalInterval(),
        "audit journal checkpoint", j::checkpoint));
    validationRollup.ifPresent(r -> Background.every(background.rollups, config.rollupFlushInterval(),
        "flush validation rollups", r::flush));
    Background.every(background.rollups, config.rollupFlushInterval(), "flush refused calls",
        () -> refusals.flush(clock.instant()));
    Background.every(background.trail, config.auditCheckpointInterval(), "audit checkpoint", checkpointer::periodic);
    config.auditRetention().ifPresent(retention -> background.trail.scheduleWithFixedDelay(
        new RetentionSweeper(events.chains(), checkpoints, keys.auditSigner(), clock, retention), 0,
        config.auditSweepInterval().toMillis(), TimeUnit.MILLISECONDS));
    Background.every(background.upkeep, STORE_PROBE_INTERVAL, "store probe", health::probe);
    config.review().schedule().ifPresent(cron -> new ReviewSchedule(cron, review, background.reviews, clock).start());
  }

  /** Writes what is queued and makes it durable in the store itself. */
  void closeWriter() {
    writer.close();
    journal.ifPresent(JournaledEventWrites::close);
  }

  /** Writes what is counted and queued, then this run's shutdown checkpoint (background already stopped). */
  @Override
  public void close() {
    validationRollup.ifPresent(ValidationRollup::flush);
    refusals.flush(Instant.MAX);
    closeWriter();
    try {
      checkpointer.checkpoint(Checkpoint.Kind.SHUTDOWN);
    } catch (RuntimeException e) {
      System.err.println("could not write the shutdown audit checkpoint: " + e);
    }
  }
}
