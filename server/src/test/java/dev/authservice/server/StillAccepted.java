package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.ValidateResponse;
import dev.authservice.proto.auth.v1.ValidationFailure;
import java.util.function.Supplier;

/**
 * How long one instance still accepted a token after a change that must reach it within a second
 * (a revocation, a disabled user), measured by probing it with Validate.
 *
 * <p>The figure is the time from the change to the sending of the last probe the instance answered
 * active: a lower bound on how long it took, which the probes' own round trips and a busy
 * machine's scheduling cannot stretch. The refusal itself must arrive within 3 s of the change, so
 * probes too far apart for a slow propagation to show between them fail too.
 */
final class StillAccepted {
  private static final long REFUSAL_WITHIN_MILLIS = 3000;

  private final long changedAt;
  private final ValidationFailure expected;
  private long lastAcceptedSentAt;

  /** Probes from now, the moment the change was answered, until the instance reports {@code expected}. */
  StillAccepted(ValidationFailure expected) {
    this.changedAt = System.nanoTime();
    this.expected = expected;
    this.lastAcceptedSentAt = changedAt;
  }

  /** Sends one probe; true once the instance gives the expected failure. */
  boolean probe(String instance, Supplier<ValidateResponse> validate) {
    long sentAt = System.nanoTime();
    ValidateResponse answer = validate.get();
    if (answer.getActive()) {
      lastAcceptedSentAt = sentAt;
      return false;
    }
    if (answer.getFailure() != expected) {
      return false;
    }
    long refusedMillis = (System.nanoTime() - changedAt) / 1_000_000;
    assertTrue(refusedMillis < REFUSAL_WITHIN_MILLIS, instance + "'s refusal arrived only " + refusedMillis + " ms later");
    return true;
  }

  /** Milliseconds from the change to the last probe answered active; 0 if the first was refused. */
  long millis() {
    return (lastAcceptedSentAt - changedAt) / 1_000_000;
  }
}
