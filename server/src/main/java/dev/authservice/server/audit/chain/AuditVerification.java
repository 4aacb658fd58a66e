package dev.authservice.server.audit.chain;


import dev.authservice.server.core.ServiceException;
import dev.authservice.server.paging.Pages;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.TrailReport;
import dev.authservice.integrity.TrailVerifier;
import java.time.Instant;
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
    long stored = checkpoints.count(maxCheckpoints + 1L);
    if (stored > maxCheckpoints) {
      throw tooManyCheckpoints();
    }
    TrailVerifier verifier = new TrailVerifier(signer.verifier(), new TrailVerifier.Window(
        start.map(Instant::toEpochMilli).orElse(null), end.map(Instant::toEpochMilli).orElse(null)));
    int read = 0;
    for (Checkpoint checkpoint : checkpoints.all()) {
      // more may have come since they were counted
      if (++read > maxCheckpoints) {
        throw tooManyCheckpoints();
      }
      if (read % PAGE == 0 && cancelled.getAsBoolean()) {
        throw cancelled();
      }
      verifier.checkpoint(checkpoint);
    }
    for (String chain : verifier.chainsToVerify(new LinkedHashSet<>(events.chains()))) {
      verifier.chain(chain, pages(chain, verifier.startAfter(chain).afterSeq(), cancelled));
    }
    return verifier.finish();
  }

  private static ServiceException cancelled() {
    return new ServiceException(ServiceException.Kind.UNAVAILABLE, "the call was cancelled");
  }

  private ServiceException tooManyCheckpoints() {
    return new ServiceException(ServiceException.Kind.EXHAUSTED, "the trail holds more than " + maxCheckpoints
        + " checkpoints, each kept in memory while it is verified (AUTH_VERIFY_MAX_CHECKPOINTS): turn on"
        + " retention (AUTH_AUDIT_RETENTION), or export the trail and verify it with authctl");
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
