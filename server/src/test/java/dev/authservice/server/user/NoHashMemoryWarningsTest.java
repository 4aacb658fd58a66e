package dev.authservice.server.user;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.LogCapture;
import dev.authservice.server.MutableClock;
import dev.authservice.server.password.HashMemoryUnavailableException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A shortage of hash memory meets every login: its log lines come at most once a minute, counting the rest. */
class NoHashMemoryWarningsTest {
  private final MutableClock clock = new MutableClock();
  private final HashMemoryUnavailableException shortage =
      new HashMemoryUnavailableException(19 << 20, new OutOfMemoryError("Cannot allocate"));

  @Test
  void aFloodOfFailedHashesIsOneLineAMinuteWithTheCountOfTheRest() {
    NoHashMemoryWarnings warnings = new NoHashMemoryWarnings(clock);
    try (LogCapture log = LogCapture.of(UserService.class)) {
      for (int i = 0; i < 500; i++) {
        warnings.warn("a password could not be checked", shortage);
        clock.advance(Duration.ofMillis(100));
      }
      // 50 s: the first line only
      assertEquals(1, log.count("a password could not be checked: no memory for an Argon2id hash: 19 MiB"));
      clock.advance(Duration.ofSeconds(10));
      warnings.warn("a password could not be hashed", shortage);
      assertTrue(log.contains("a password could not be hashed: no memory for an Argon2id hash: 19 MiB could not be"
          + " allocated (499 more since the last such line)"));
      assertEquals(2, log.count("no memory for an Argon2id hash"));
    }
  }
}
