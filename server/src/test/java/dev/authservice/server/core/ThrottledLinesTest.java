package dev.authservice.server.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ThrottledLinesTest {
  /** A clock the test moves. */
  private static final class Hands extends Clock {
    Instant now = Instant.parse("2026-12-04T00:00:00Z");

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void atMostTheBudgetInAnIntervalAndTheNextLineCountsTheRest() {
    Hands clock = new Hands();
    ThrottledLines lines = new ThrottledLines(clock, 3, Duration.ofMinutes(1));
    for (int i = 0; i < 3; i++) {
      assertEquals(OptionalLong.of(0), lines.admit());
    }
    for (int i = 0; i < 100; i++) {
      assertEquals(OptionalLong.empty(), lines.admit());
    }
    clock.now = clock.now.plusSeconds(59);
    assertEquals(OptionalLong.empty(), lines.admit());
    clock.now = clock.now.plusSeconds(1);
    assertEquals(OptionalLong.of(101), lines.admit(), "the first line of the next minute says how many were left out");
    assertEquals(OptionalLong.of(0), lines.admit());
    assertEquals(" (101 more such lines left out before this one)", ThrottledLines.suffix(101));
    assertEquals("", ThrottledLines.suffix(0));
  }
}
