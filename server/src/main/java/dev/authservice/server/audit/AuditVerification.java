package dev.authservice.server.audit;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.TrailReport;
import dev.authservice.integrity.TrailVerifier;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * VerifyAudit: feeds the store's checkpoints and then each chain's events, a page at a time in
 * seq order, through the same {@link TrailVerifier} that verifies an export offline.
 */
public final class AuditVerification {
  private static final int PAGE = 1000;

  private final AuditStore events;
  private final CheckpointStore checkpoints;
  private final AuditSigner signer;

  public AuditVerification(AuditStore events, CheckpointStore checkpoints, AuditSigner signer) {
    this.events = events;
    this.checkpoints = checkpoints;
    this.signer = signer;
  }

  public TrailReport verify(Optional<Instant> start, Optional<Instant> end) {
    TrailVerifier verifier = new TrailVerifier(signer.verifier(), new TrailVerifier.Window(
        start.map(Instant::toEpochMilli).orElse(null), end.map(Instant::toEpochMilli).orElse(null)));
    for (Checkpoint checkpoint : checkpoints.all()) {
      verifier.checkpoint(checkpoint);
    }
    for (String chain : verifier.chainsToVerify(new LinkedHashSet<>(events.chains()))) {
      verifier.chain(chain, pages(chain, verifier.startAfter(chain).afterSeq()));
    }
    return verifier.finish();
  }

  private Iterator<ChainedEvent> pages(String chain, long afterSeq) {
    return new Iterator<>() {
      private List<ChainedEvent> page = List.of();
      private int at;
      private long last = afterSeq;
      private boolean done;

      @Override
      public boolean hasNext() {
        if (at < page.size()) {
          return true;
        }
        if (done) {
          return false;
        }
        page = events.chainEvents(chain, last, PAGE);
        at = 0;
        done = page.size() < PAGE;
        if (!page.isEmpty()) {
          last = page.get(page.size() - 1).seq();
        }
        return !page.isEmpty();
      }

      @Override
      public ChainedEvent next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return page.get(at++);
      }
    };
  }
}
