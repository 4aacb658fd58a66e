package dev.authservice.server.audit.chain;


import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.Hashes;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes this instance's signed checkpoints: every interval when its chain has new durable
 * events, and once at graceful shutdown. Each names the chain's durable head, the head of every
 * other chain that has moved since this run last named it (every chain with events, in the run's
 * first checkpoint), and the hash of the chain's previous checkpoint, and its own hash goes to
 * the log, so a log system outside the store anchors the trail as well.
 *
 * <p>Why not every head in every checkpoint, as before: each server run registers a chain, so the
 * heads grew with every restart ever made, in every checkpoint (every 10 s while events flow),
 * on every instance. A claim once signed stays in the trail, so naming an unchanged head again
 * adds nothing a verifier uses: truncation and rewriting are found against the first claim.
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
  /** The head this run last named for each other chain, in a checkpoint that was written. */
  private final java.util.Map<String, Checkpoint.Head> named = new java.util.HashMap<>();
  /** Chains this run named at their shutdown checkpoint: they cannot move, so their heads are not read again. */
  private final java.util.Set<String> closed = new java.util.HashSet<>();

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
    // only once written: a checkpoint that failed names the same heads again next time
    signed.heads().forEach(h -> named.put(h.chain(), h));
    writer.lossesRecorded(losses);
    lastSeq = head.seq();
    lastKind = kind;
    lastCheckpointHash = signed.checkpointHash();
    coveredAt = clock.instant();
    log.info("audit checkpoint {} chain={} seq={} hash={} heads={} checkpoint_hash={}", kind.name().toLowerCase(),
        signed.chain(), signed.seq(), signed.hash(), signed.heads().size(), lastCheckpointHash);
    return Optional.of(signed);
  }

  /**
   * The heads of the other chains with events that moved since this run last named them. A
   * chain this run named at its own signed shutdown checkpoint is not read again: its writer
   * signed that nothing follows, and anything that did would fail verification as unvouched.
   */
  private List<Checkpoint.Head> otherHeads(String own) {
    List<Checkpoint.Head> heads = new ArrayList<>();
    for (String chain : checkpoints.registeredChains()) {
      if (chain.equals(own) || closed.contains(chain)) {
        continue;
      }
      Optional<Checkpoint.Head> head = events.head(chain).map(e -> new Checkpoint.Head(chain, e.seq(), e.hash()));
      if (head.isEmpty()) {
        continue;
      }
      if (!head.get().equals(named.get(chain))) {
        heads.add(head.get());
      } else if (closedAt(chain, head.get())) {
        closed.add(chain);
      }
    }
    return heads;
  }

  /**
   * Whether the chain's writer signed a shutdown checkpoint at this head. Its signature is checked:
   * the store's documents are not trusted, and an unsigned one would stop this run naming the chain.
   */
  private boolean closedAt(String chain, Checkpoint.Head head) {
    return checkpoints.shutdown(chain).filter(c -> c.seq() == head.seq() && c.hash().equals(head.hash()))
        .filter(c -> signer.verifier().problem(c).isEmpty()).isPresent();
  }
}
