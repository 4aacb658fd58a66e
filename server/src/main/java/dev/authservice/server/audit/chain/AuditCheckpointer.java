package dev.authservice.server.audit.chain;


import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Hashes;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes this instance's signed checkpoints: every interval when its chain has new durable
 * events, and once at graceful shutdown. Each names the chain's durable head, the current head
 * of every other chain, and the hash of the chain's previous checkpoint, and its own hash goes
 * to the log, so a log system outside the store anchors the trail as well.
 */
public final class AuditCheckpointer {
  private static final Logger log = LoggerFactory.getLogger(AuditCheckpointer.class);

  private final ChainHeads writer;
  private final CheckpointStore checkpoints;
  private final ChainReads events;
  private final AuditSigner signer;
  private final Clock clock;
  private long lastSeq;
  private Checkpoint.Kind lastKind;
  private String lastCheckpointHash = Hashes.ZERO;
  /** When this chain was last wholly vouched for: a checkpoint written, or a run that found nothing new. */
  private volatile java.time.Instant coveredAt;
  /** A write failed in a way that leaves open whether it landed: the store says which checkpoint came last. */
  private boolean unsure;

  public AuditCheckpointer(ChainHeads writer, CheckpointStore checkpoints, ChainReads events,
      AuditSigner signer, Clock clock) {
    this.writer = writer;
    this.checkpoints = checkpoints;
    this.events = events;
    this.signer = signer;
    this.clock = clock;
    this.coveredAt = clock.instant();
  }

  /**
   * When every durable event of this chain was last covered by a signed checkpoint (or, before
   * any, when the checkpointer started): grows only while checkpoints fail.
   */
  public java.time.Instant coveredAt() {
    return coveredAt;
  }

  /** The scheduled checkpoint; a failure (the store away) is logged and retried next time. */
  public void periodic() {
    try {
      checkpoint(Checkpoint.Kind.PERIODIC);
    } catch (RuntimeException e) {
      log.warn("audit checkpoint failed, will retry: {}", e.toString());
    }
  }

  /** Writes a checkpoint if there is something to vouch for; returns it. */
  public synchronized Optional<Checkpoint> checkpoint(Checkpoint.Kind kind) {
    if (unsure) {
      checkpoints.latestAtOrBefore(writer.chain(), Long.MAX_VALUE).ifPresent(latest -> {
        lastSeq = latest.seq();
        lastKind = latest.kind();
        lastCheckpointHash = latest.checkpointHash();
      });
      unsure = false;
    }
    ChainHeads.Head head = writer.durableHead();
    List<Checkpoint.Lost> losses = writer.unrecordedLosses();
    boolean nothingNew = head.seq() == lastSeq && losses.isEmpty();
    if ((head.seq() == 0 && losses.isEmpty())
        || (nothingNew && (kind == Checkpoint.Kind.PERIODIC || lastKind == kind))) {
      coveredAt = clock.instant();
      return Optional.empty();
    }
    Checkpoint unsigned = new Checkpoint(kind, head.chain(), head.seq(), head.hash(), clock.millis(),
        otherHeads(head.chain()), lastCheckpointHash, "", losses);
    Checkpoint signed = unsigned.withSignature(signer.sign(unsigned));
    unsure = true;
    checkpoints.insert(signed);
    unsure = false;
    writer.lossesRecorded(losses);
    lastSeq = head.seq();
    lastKind = kind;
    lastCheckpointHash = signed.checkpointHash();
    coveredAt = clock.instant();
    log.info("audit checkpoint {} chain={} seq={} hash={} heads={} checkpoint_hash={}", kind.name().toLowerCase(),
        signed.chain(), signed.seq(), signed.hash(), signed.heads().size(), lastCheckpointHash);
    return Optional.of(signed);
  }

  private List<Checkpoint.Head> otherHeads(String own) {
    List<Checkpoint.Head> heads = new ArrayList<>();
    for (String chain : checkpoints.registeredChains()) {
      if (!chain.equals(own)) {
        Optional<ChainedEvent> head = events.head(chain);
        head.ifPresent(e -> heads.add(new Checkpoint.Head(chain, e.seq(), e.hash())));
      }
    }
    return heads;
  }
}
