package dev.authservice.server.audit.chain;


import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.Hashes;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes events older than the retention, on a background thread, as whole prefixes of chains:
 * for each chain, the events up to the first one still within the retention. Before deleting,
 * it records a signed purge checkpoint naming the last event removed and its hash, so that a
 * verifier knows exactly what retention took and the chain still verifies from there on; a
 * deletion without one shows as missing events.
 */
public final class RetentionSweeper implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(RetentionSweeper.class);
  private static final int BATCH = 1000;

  private final ChainReads events;
  private final CheckpointStore checkpoints;
  private final AuditSigner signer;
  private final Clock clock;
  private final Duration retention;

  public RetentionSweeper(ChainReads events, CheckpointStore checkpoints, AuditSigner signer, Clock clock,
      Duration retention) {
    this.events = events;
    this.checkpoints = checkpoints;
    this.signer = signer;
    this.clock = clock;
    this.retention = retention;
  }

  @Override
  public void run() {
    try {
      long cutoff = clock.millis() - retention.toMillis();
      long total = 0;
      for (String chain : events.chains()) {
        total += sweep(chain, cutoff);
      }
      long n;
      do {
        // events from before chaining belong to no chain; they simply expire
        n = events.deleteUnchainedOlderThan(java.time.Instant.ofEpochMilli(cutoff), BATCH);
        total += n;
      } while (n == BATCH);
      if (total > 0) {
        log.info("retention: removed {} audit events older than {}", total, retention);
      }
    } catch (RuntimeException e) {
      log.warn("retention sweep failed, will retry: {}", e.toString());
    }
  }

  private long sweep(String chain, long cutoff) {
    long from = checkpoints.purge(chain).map(Checkpoint::seq).orElse(0L);
    ChainedEvent last = null;
    scan:
    while (true) {
      List<ChainedEvent> page = events.chainEvents(chain, last == null ? from : last.seq(), BATCH);
      for (ChainedEvent e : page) {
        if (e.time() >= cutoff) {
          break scan;
        }
        last = e;
      }
      if (page.size() < BATCH) {
        break;
      }
    }
    if (last == null) {
      return 0;
    }
    String prevCheckpoint = checkpoints.latestAtOrBefore(chain, last.seq()).map(Checkpoint::checkpointHash)
        .orElse(Hashes.ZERO);
    Optional<Checkpoint> earlierPurge = checkpoints.purge(chain);
    if (earlierPurge.isPresent() && prevCheckpoint.equals(Hashes.ZERO)) {
      prevCheckpoint = earlierPurge.get().prevCheckpointHash();
    }
    Checkpoint unsigned = new Checkpoint(Checkpoint.Kind.PURGE, chain, last.seq(), last.hash(), clock.millis(),
        List.of(), prevCheckpoint, "");
    Checkpoint purge = unsigned.withSignature(signer.sign(unsigned));
    // the signed statement first: a crash after it leaves events a verifier skips, never a gap
    checkpoints.insert(purge);
    long deleted = 0;
    long n;
    do {
      n = events.deleteChainThrough(chain, last.seq(), BATCH);
      deleted += n;
    } while (n == BATCH);
    checkpoints.deleteCoveredBy(purge);
    log.info("retention: purged chain {} through seq {} (checkpoint_hash={})", chain, last.seq(),
        purge.checkpointHash());
    return deleted;
  }
}
