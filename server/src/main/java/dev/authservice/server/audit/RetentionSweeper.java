package dev.authservice.server.audit;

import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes audit events older than the retention, in batches, on a background thread, for
 * stores that do not enforce the TTL index (the embedded one). Harmless where MongoDB already
 * removed them.
 */
public final class RetentionSweeper implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(RetentionSweeper.class);
  private static final int BATCH = 1000;

  private final AuditStore store;
  private final Clock clock;
  private final Duration retention;

  public RetentionSweeper(AuditStore store, Clock clock, Duration retention) {
    this.store = store;
    this.clock = clock;
    this.retention = retention;
  }

  @Override
  public void run() {
    try {
      long total = 0;
      long deleted;
      do {
        deleted = store.deleteOlderThan(clock.instant().minus(retention), BATCH);
        total += deleted;
      } while (deleted == BATCH);
      if (total > 0) {
        log.info("retention: removed {} audit events older than {}", total, retention);
      }
    } catch (RuntimeException e) {
      log.warn("retention sweep failed, will retry: {}", e.toString());
    }
  }
}
