package dev.authservice.server.audit.chain;


import dev.authservice.server.core.ServiceException;
import dev.authservice.server.paging.Pages;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.TrailReport;
import dev.authservice.integrity.TrailVerifier;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * VerifyAudit: feeds the store's checkpoints and then each chain's events, a page at a time in
 * seq order, through the same {@link TrailVerifier} that verifies an export offline.
 */
public final class AuditVerification {
  private static final int PAGE = 1000;
  /**
   * How long before a windowed verification's start (or the newest checkpoint) every checkpoint
   * is read: other chains' claims about events just after the anchors, made before the start.
   */
  static final Duration WINDOW_MARGIN = Duration.ofHours(1);

  private final ChainReads events;
  private final CheckpointStore checkpoints;
  private final AuditSigner signer;
  /** AUTH_VERIFY_MAX_CHECKPOINTS: the verifier keeps what it needs of each, so they bound its memory. */
  private final int maxCheckpoints;

  public AuditVerification(ChainReads events, CheckpointStore checkpoints, AuditSigner signer, int maxCheckpoints) {
    this.events = events;
    this.checkpoints = checkpoints;
    this.signer = signer;
    this.maxCheckpoints = maxCheckpoints;
  }

  /**
   * {@code cancelled}: whether the caller has gone (checked between pages, so that a call given
   * up does not go on holding the instance's one verification for the rest of the walk).
   */
  public TrailReport verify(Optional<Instant> start, Optional<Instant> end, BooleanSupplier cancelled) {
    TrailVerifier verifier = new TrailVerifier(signer.verifier(), new TrailVerifier.Window(
        start.map(Instant::toEpochMilli).orElse(null), end.map(Instant::toEpochMilli).orElse(null)));
    Set<String> chainsWithEvents = new LinkedHashSet<>(events.chains());
    Counter fed = new Counter(cancelled, start.isPresent());
    if (start.isEmpty()) {
      if (checkpoints.count(maxCheckpoints + 1L) > maxCheckpoints) {
        throw wholeTrailTooLarge();
      }
      for (Checkpoint checkpoint : checkpoints.all()) {
        fed.add();
        verifier.checkpoint(checkpoint);
      }
    } else {
      feedWindow(verifier, start.get(), chainsWithEvents, fed);
    }
    for (String chain : verifier.chainsToVerify(chainsWithEvents)) {
      verifier.chain(chain, pages(chain, verifier.startAfter(chain).afterSeq(), cancelled));
    }
    return verifier.finish();
  }

  /**
   * With a start time, the checkpoints a verification from there needs, not every one ever signed
   * (a busy instance signs 8,640 a day; the verifier keeps what links each): every checkpoint
   * timed from {@link #WINDOW_MARGIN} before the start (or before the newest checkpoint, if that
   * is earlier) on, which links each chain's own checkpoints from its anchor and names, each
   * time, every run that crashed with events; and of every chain, its anchor (its own newest
   * checkpoint at or before the start), its newest purge and its shutdown checkpoint, wherever
   * they lie. What is left out are older claims of other chains about events before the anchors,
   * which a verification from the start does not walk.
   */
  private void feedWindow(TrailVerifier verifier, Instant start, Set<String> chainsWithEvents, Counter fed) {
    Instant newest = checkpoints.newestTime().orElse(start);
    Instant from = (newest.isBefore(start) ? newest : start).minus(WINDOW_MARGIN);
    Set<String> chains = new LinkedHashSet<>(checkpoints.registeredChains());
    chains.addAll(chainsWithEvents);
    // the window's checkpoints and, typically, one more per chain (its anchor, when older)
    if (checkpoints.countSince(from, maxCheckpoints + 1L) + chains.size() > maxCheckpoints) {
      throw tooManyCheckpoints("the window needs more than " + maxCheckpoints + " checkpoints (those from an hour"
          + " before its start, and one of each of the trail's " + chains.size() + " runs)", LATER_START);
    }
    // what was fed, so that a checkpoint found twice is not fed twice (that would look like a fork)
    Set<String> seen = new HashSet<>();
    Iterator<CheckpointStore.Stored> window = Pages.after(Optional.<CheckpointStore.PagePosition>empty(),
        (after, size) -> checkpoints.page(Optional.of(from), Optional.empty(), after, size),
        last -> Optional.of(new CheckpointStore.PagePosition(Instant.ofEpochMilli(last.checkpoint().time()),
            last.id())), PAGE);
    while (window.hasNext()) {
      Checkpoint checkpoint = window.next().checkpoint();
      fed.add();
      seen.add(key(checkpoint));
      verifier.checkpoint(checkpoint);
    }
    for (String chain : chains) {
      fed.checkCancelled();
      for (Optional<Checkpoint> earlier : List.of(checkpoints.ownAtOrBefore(chain, start), checkpoints.purge(chain),
          checkpoints.shutdown(chain))) {
        // found by the pages or not (older than the margin, or stored after its time was paged past)
        if (earlier.isPresent() && seen.add(key(earlier.get()))) {
          fed.add();
          verifier.checkpoint(earlier.get());
        }
      }
    }
  }

  /** What tells two stored checkpoints apart (a loss checkpoint shares its seq with a periodic one): all of it. */
  private static String key(Checkpoint c) {
    return c.checkpointHash() + ":" + dev.authservice.integrity.Hashes.sha256(
        c.signature().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Checkpoints handed to the verifier: at most the bound (more may come while they are read), cancellable. */
  private final class Counter {
    private final BooleanSupplier cancelled;
    private final boolean windowed;
    private int count;

    Counter(BooleanSupplier cancelled, boolean windowed) {
      this.cancelled = cancelled;
      this.windowed = windowed;
    }

    void add() {
      if (++count > maxCheckpoints) {
        throw windowed
            ? tooManyCheckpoints("the window needs more than " + maxCheckpoints + " checkpoints", LATER_START)
            : wholeTrailTooLarge();
      }
      if (count % PAGE == 0) {
        checkCancelled();
      }
    }

    void checkCancelled() {
      if (cancelled.getAsBoolean()) {
        throw cancelled();
      }
    }

  }

  private static ServiceException cancelled() {
    return new ServiceException(ServiceException.Kind.UNAVAILABLE, "the call was cancelled");
  }

  private static final String LATER_START = "verify from a later start_time";

  private ServiceException wholeTrailTooLarge() {
    return tooManyCheckpoints("the trail holds more than " + maxCheckpoints + " checkpoints",
        "verify from a start_time (authctl audit verify --since)");
  }

  /** RESOURCE_EXHAUSTED: {@code needed}, why that is refused, and what to do, {@code firstRemedy} first. */
  private static ServiceException tooManyCheckpoints(String needed, String firstRemedy) {
    return new ServiceException(ServiceException.Kind.EXHAUSTED, needed + ", each kept in memory while it is"
        + " verified (AUTH_VERIFY_MAX_CHECKPOINTS): " + firstRemedy + ", turn on retention (AUTH_AUDIT_RETENTION),"
        + " or export the trail and verify it with authctl");
  }

  private Iterator<ChainedEvent> pages(String chain, long afterSeq, BooleanSupplier cancelled) {
    return Pages.after(afterSeq, (seq, size) -> {
      if (cancelled.getAsBoolean()) {
        throw cancelled();
      }
      return events.chainEvents(chain, seq, size);
    }, ChainedEvent::seq, PAGE);
  }
}
