package dev.authservice.server.audit.chain;


import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.CheckpointSignatures;
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
 * other chain with events that has not shut down, and the hash of the chain's previous
 * checkpoint, and its own hash goes to the log, so a log system outside the store anchors the
 * trail as well.
 *
 * <p>A chain whose writer signed a shutdown checkpoint at its head is named once per run (in the
 * run's first checkpoint, or when it moved to that head) and then no longer read or named: its
 * writer signed that nothing follows, anything that did would fail verification as unvouched,
 * and its own shutdown checkpoint anchors it in a windowed export. Each server run registers a
 * chain, so naming every head in every checkpoint, as before, grew every checkpoint (every 10 s
 * while events flow, on every instance) with every restart ever made; now the steady size grows
 * only with runs that crashed. Those are still named in every checkpoint (while there are at most
 * {@link #MAX_HEADS} chains that have not shut down; past that, in turn): a claim that only an
 * older checkpoint made would be outside the checkpoints a windowed verification links up, so it
 * could be deleted unseen, and retention could remove it before the tail it vouches for.
 */
public final class AuditCheckpointer {
  private static final Logger log = LoggerFactory.getLogger(AuditCheckpointer.class);

  /** A head this run named, and the number of the checkpoint that named it (counted from 1). */
  private record Named(Checkpoint.Head head, long in) {}
  /**
   * The most heads one checkpoint names, about 1.6 MB: a document must stay under MongoDB's 16 MB,
   * or its insert fails at every retry and the run never checkpoints again.
   */
  public static final int MAX_HEADS = 10_000;

  private final ChainHeads writer;
  private final CheckpointStore checkpoints;
  private final RegisteredChains register;
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
  /** What this run last named of each other chain, in a checkpoint that was written. */
  private final java.util.Map<String, Named> named = new java.util.HashMap<>();
  /** Chains this run named at their shutdown checkpoint: they cannot move, so their heads are not read again. */
  private final java.util.Set<String> closed = new java.util.HashSet<>();
  private long checkpointsWritten;
  /**
   * How long a chain found without events, or found at an unchanged head without a shutdown
   * checkpoint, is not asked again: every run whose events retention removed, and every run that
   * crashed, cost one or two store queries at every checkpoint (every 10 s while events flow),
   * a cost that grew with every restart ever made. With a checkpoint interval, well inside the five
   * minutes by which the verifier expects a chain with events to be named (which also absorb clocks
   * that differ and commits in flight), so a run that starts writing is named in time; a shutdown
   * checkpoint looks at every run again.
   */
  public static final java.time.Duration RECHECK = java.time.Duration.ofMinutes(1);
  /**
   * The first wait before a run registered since this checkpointer started, and found without
   * events, is looked at again, doubled at each look that finds none, up to {@link #RECHECK}: a run
   * registers before it writes its first event, and one looked at in between is then named within
   * seconds, not a minute, while one that stays silent costs a few looks in its first minute and
   * one a minute after that. The runs already registered at the first checkpoint (most of them
   * long over, their events removed by retention) wait {@link #RECHECK} from the start, so a start
   * does not look at each of them five times in its first minute.
   */
  public static final java.time.Duration FIRST_RECHECK = java.time.Duration.ofSeconds(5);
  /** Whether a checkpoint has looked at the register yet: the runs in it then are not new. */
  private boolean registerLookedAt;
  /** When a run found without events is looked at next, and the wait that led there. */
  private record NextLook(java.time.Instant at, java.time.Duration waited) {}
  private final java.util.Map<String, NextLook> emptyLooks = new java.util.HashMap<>();
  private final java.util.Map<String, java.time.Instant> openCheckedAt = new java.util.HashMap<>();
  private java.time.Instant lastCapWarning;
  private final int maxHeads;

  public AuditCheckpointer(ChainHeads writer, CheckpointStore checkpoints, ChainReads events,
      AuditSigner signer, Clock clock) {
    this(writer, checkpoints, events, signer, clock, MAX_HEADS);
  }

  /** {@code maxHeads}: the most other chains one checkpoint names ({@link #MAX_HEADS} but in tests). */
  public AuditCheckpointer(ChainHeads writer, CheckpointStore checkpoints, ChainReads events,
      AuditSigner signer, Clock clock, int maxHeads) {
    if (maxHeads < 1) {
      throw new IllegalArgumentException("a checkpoint names at least one other chain");
    }
    this.maxHeads = maxHeads;
    this.writer = writer;
    this.checkpoints = checkpoints;
    this.register = new RegisteredChains(checkpoints,
        () -> java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(clock.millis()));
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
        otherHeads(head.chain(), kind == Checkpoint.Kind.SHUTDOWN), lastCheckpointHash, "", losses);
    Checkpoint signed = unsigned.withSignature(signer.sign(unsigned));
    unsure = true;
    checkpoints.insert(signed);
    unsure = false;
    // only once written: a checkpoint that failed names the same heads again next time
    checkpointsWritten++;
    signed.heads().forEach(h -> named.put(h.chain(), new Named(h, checkpointsWritten)));
    writer.lossesRecorded(losses);
    lastSeq = head.seq();
    lastKind = kind;
    lastCheckpointHash = signed.checkpointHash();
    coveredAt = clock.instant();
    log.info("audit checkpoint {} chain={} seq={} hash={} heads={} checkpoint_hash={}", kind.name().toLowerCase(),
        signed.chain(), signed.seq(), signed.hash(), signed.heads().size(), lastCheckpointHash);
    return Optional.of(signed);
  }

  /** Whether a run found without events is not to be looked at yet (a clock gone back looks at once). */
  private boolean emptyLookLater(String chain, java.time.Instant now) {
    NextLook next = emptyLooks.get(chain);
    return next != null && now.isBefore(next.at()) && !now.isBefore(next.at().minus(next.waited()));
  }

  /** Whether the chain was looked at, with the answer {@code checkedAt} keeps, less than {@link #RECHECK} ago. */
  private static boolean dueLater(java.util.Map<String, java.time.Instant> checkedAt, String chain,
      java.time.Instant now) {
    java.time.Instant at = checkedAt.get(chain);
    return at != null && now.isBefore(at.plus(RECHECK)) && !now.isBefore(at);
  }

  /**
   * The heads of the other chains with events, but for those this run has named at their own
   * signed shutdown checkpoint. Should there be more than the most a checkpoint names, those this
   * run named longest ago (or never) come first, so each is named at least once in so many
   * checkpoints: not those that moved, since whether a chain moved is for whoever writes to the
   * store to decide, and made-up chains kept moving would otherwise push a crashed run's out of
   * every checkpoint.
   */
  private List<Checkpoint.Head> otherHeads(String own, boolean lastOfRun) {
    List<Checkpoint.Head> heads = new ArrayList<>();
    Optional<CheckpointSignatures> verifier = Optional.empty();
    java.time.Instant now = clock.instant();
    for (String chain : register.current()) {
      // a run's last checkpoint looks at every run again: nothing of this run comes after it
      if (chain.equals(own) || closed.contains(chain) || (!lastOfRun && emptyLookLater(chain, now))) {
        continue;
      }
      Optional<Checkpoint.Head> head = events.head(chain).map(e -> new Checkpoint.Head(chain, e.seq(), e.hash()));
      if (head.isEmpty()) {
        // a run whose events retention removed, or one that never wrote (yet): looked at again in a while
        NextLook previous = emptyLooks.get(chain);
        java.time.Duration wait = previous == null ? (registerLookedAt ? FIRST_RECHECK : RECHECK)
            : java.util.Collections.min(List.of(previous.waited().multipliedBy(2), RECHECK));
        emptyLooks.put(chain, new NextLook(now.plus(wait), wait));
        continue;
      }
      emptyLooks.remove(chain);
      Named last = named.get(chain);
      if (last == null || !head.get().equals(last.head())) {
        heads.add(head.get());
        openCheckedAt.remove(chain);
        continue;
      }
      if (!lastOfRun && dueLater(openCheckedAt, chain, now)) {
        heads.add(head.get()); // still at the head found without a shutdown checkpoint a moment ago
        continue;
      }
      Optional<Checkpoint> shutdown = checkpoints.shutdown(chain)
          .filter(c -> c.seq() == head.get().seq() && c.hash().equals(head.get().hash()));
      if (shutdown.isPresent() && verifier.isEmpty()) {
        verifier = Optional.of(signer.verifier());   // reads the audit keys: once per checkpoint at most
      }
      // the signature is checked: a forged shutdown checkpoint in the store must not silence the claims
      if (shutdown.isPresent() && verifier.get().problem(shutdown.get()).isEmpty()) {
        closed.add(chain);
        openCheckedAt.remove(chain);
      } else {
        heads.add(head.get());
        openCheckedAt.put(chain, now);
      }
    }
    registerLookedAt = true;
    if (heads.size() <= maxHeads) {
      return heads;
    }
    // a stable sort on the register's order reversed: among those named as long ago (in a run's
    // first checkpoint, none), the newest runs first, likelier to have just crashed
    java.util.Collections.reverse(heads);
    heads.sort(java.util.Comparator.comparingLong(h -> named.containsKey(h.chain()) ? named.get(h.chain()).in() : 0L));
    if (lastCapWarning == null || !clock.instant().isBefore(lastCapWarning.plus(java.time.Duration.ofHours(1)))) {
      lastCapWarning = clock.instant();
      log.warn("audit checkpoints name at most {} other chains, and {} have events and have not shut down: each"
          + " checkpoint names those named longest ago; prune the trail's old runs (AUTH_AUDIT_RETENTION)",
          maxHeads, heads.size());
    }
    return heads.subList(0, maxHeads);
  }
}
