package dev.authservice.server.audit;


import dev.authservice.server.core.Caller;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Records security events for the running instance: stamps id, time and instance, and hands
 * them to the sink, which returns once they are durable, before the RPC that caused the event
 * answers.
 */
public final class AuditLog {
  private final AuditSink sink;
  private final Refusals refusals;
  private final Clock clock;
  private final String instance;

  public AuditLog(AuditSink sink, Refusals refusals, Clock clock, String instance) {
    this.sink = sink;
    this.refusals = refusals;
    this.clock = clock;
    this.instance = instance;
  }

  /** Starts an event of this type caused by this caller. */
  public Entry event(AuditEventType type, Caller caller) {
    return new Entry(type, caller);
  }

  /**
   * Writes the success events of one call together: they join the same group commit in this order
   * and the call waits once, until all are durable, instead of once per event.
   */
  public java.util.List<AuditEvent> successes(Entry... entries) {
    java.util.List<AuditEvent> events = new java.util.ArrayList<>(entries.length);
    for (Entry entry : entries) {
      AuditEvent event = entry.successUnwritten();
      if (!events.isEmpty()) {
        // made in one call, perhaps in one millisecond: the later event's id sorts after the earlier's
        AuditEvent previous = events.get(events.size() - 1);
        if (event.time().equals(previous.time())) {
          event = event.withId(EventIds.after(previous.id(), event.time()));
        }
      }
      events.add(event);
    }
    sink.writeAll(events);
    return events;
  }

  /** One event under construction; {@link #success()} or {@link #failure(String)} writes it. */
  public final class Entry {
    private final AuditEventType type;
    private final Caller caller;
    private String username = "";
    private String subject = "";
    private String tokenId = "";

    private Entry(AuditEventType type, Caller caller) {
      this.type = type;
      this.caller = caller;
    }

    public Entry username(String value) {
      username = value;
      return this;
    }

    public Entry subject(String value) {
      subject = value;
      return this;
    }

    public Entry tokenId(String value) {
      tokenId = value;
      return this;
    }

    public AuditEvent success() {
      return write(AuditOutcome.SUCCESS, "");
    }

    /** The success event, stamped but not written: for a caller that aggregates before writing. */
    public AuditEvent successUnwritten() {
      return build(AuditOutcome.SUCCESS, "");
    }

    /** Writes a failure; {@code reason} is a short machine-readable code, never secret. */
    public AuditEvent failure(String reason) {
      return write(AuditOutcome.FAILURE, reason);
    }

    /**
     * A call refused before any password or token was checked: counted with the other refusals
     * of its caller and reason ({@link Refusals}), so a flood costs the store a few events.
     */
    public void refused(String reason) {
      refusals.count(build(AuditOutcome.FAILURE, reason), false);
    }

    /**
     * A success that changes nothing, repeated (a token revoked again): counted with the others of
     * its caller, username and reason, as refusals are, since whoever holds the token can repeat
     * it in a loop; the first of each minute is written at once.
     */
    public void repeatedSuccess(String reason) {
      refusals.count(build(AuditOutcome.SUCCESS, reason), true);
    }

    /** As {@link #refused}, counted apart for each username: a refusal about one account. */
    public void refusedForAccount(String reason) {
      refusals.count(build(AuditOutcome.FAILURE, reason), true);
    }

    private AuditEvent write(AuditOutcome outcome, String reason) {
      AuditEvent event = build(outcome, reason);
      sink.write(event);
      return event;
    }

    private AuditEvent build(AuditOutcome outcome, String reason) {
      Instant time = clock.instant().truncatedTo(ChronoUnit.MILLIS);
      return new AuditEvent(EventIds.at(time), time, type, outcome,
          username, subject, tokenId, caller.clientIp(), caller.userAgent(), caller.rpcMethod(),
          reason, instance, caller.actor(), caller.peerIdentity()).withTraceId(caller.traceId());
    }
  }
}
