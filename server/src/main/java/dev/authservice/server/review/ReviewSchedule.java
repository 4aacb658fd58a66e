package dev.authservice.server.review;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the review of the previous full UTC day at every time a five-field (Unix) cron expression
 * names, in UTC, on whichever instance claims it first. An instance that finds it claimed looks
 * once more after the claim's lease time, so a day whose claimant died mid-review is still reviewed.
 */
public final class ReviewSchedule {
  private static final Logger log = LoggerFactory.getLogger(ReviewSchedule.class);

  private final ExecutionTime times;
  private final SuspiciousActivityReview review;
  private final ScheduledExecutorService executor;
  private final Clock clock;

  public ReviewSchedule(String cron, SuspiciousActivityReview review, ScheduledExecutorService executor, Clock clock) {
    this.times = ExecutionTime.forCron(parse(cron));
    this.review = review;
    this.executor = executor;
    this.clock = clock;
  }

  /** Fails with a message naming the setting unless {@code cron} is a valid five-field expression. */
  public static com.cronutils.model.Cron parse(String cron) {
    try {
      return new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX)).parse(cron).validate();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("AUTH_REVIEW_SCHEDULE must be a five-field cron expression in UTC such as"
          + " '0 2 * * *', or off; got '" + cron + "'");
    }
  }

  public void start() {
    scheduleNext();
  }

  private void scheduleNext() {
    ZonedDateTime now = ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    Optional<ZonedDateTime> next = times.nextExecution(now);
    if (next.isEmpty()) {
      return;
    }
    long delay = Math.max(0, Duration.between(now, next.get()).toMillis());
    executor.schedule(this::run, delay, TimeUnit.MILLISECONDS);
  }

  private void run() {
    ReviewWindow window = ReviewWindow.previousDay(clock.instant());
    try {
      if (!review.reviewOnSchedule(window)) {
        retryLater(window);
      }
    } catch (RuntimeException e) {
      // the window's lease held by another review (one whose alerts may still land holds it a whole
      // lease time), or the store away: looked at once more, as a window claimed elsewhere is
      log.warn("scheduled review failed, will look again in {} minutes: {}",
          SuspiciousActivityReview.leaseTime().plusMinutes(1).toMinutes(), e.toString());
      retryLater(window);
    } finally {
      scheduleNext();
    }
  }

  private void retryLater(ReviewWindow window) {
    Duration retry = SuspiciousActivityReview.leaseTime().plusMinutes(1);
    executor.schedule(() -> retry(window), retry.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * The second look at a window claimed elsewhere or whose first run failed: runs it only if no
   * claim stands (the claimant died before finishing, or gave the claim up when it failed).
   */
  private void retry(ReviewWindow window) {
    try {
      review.reviewOnSchedule(window);
    } catch (RuntimeException e) {
      log.warn("scheduled review failed: {}", e.toString());
    }
  }
}
