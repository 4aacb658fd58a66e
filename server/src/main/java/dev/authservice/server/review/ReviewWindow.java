package dev.authservice.server.review;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/** The time a review covers: [start, end). */
public record ReviewWindow(Instant start, Instant end) {
  public ReviewWindow {
    if (!start.isBefore(end)) {
      throw new IllegalArgumentException("a review window must start before it ends");
    }
  }

  /** The full UTC day before the one {@code now} falls in. */
  public static ReviewWindow previousDay(Instant now) {
    LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
    return new ReviewWindow(today.minusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant(),
        today.atStartOfDay(ZoneOffset.UTC).toInstant());
  }

  String key() {
    return start.toEpochMilli() + "-" + end.toEpochMilli();
  }
}
