package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.Refusals;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditSink;
import dev.authservice.server.audit.EventIds;

import dev.authservice.server.core.AddressBlocks;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls refused before any password or token was checked (a limit, a lock, a malformed request,
 * a missing or bad bearer token) cost the caller nothing, so a flood of them must not cost the
 * store a document each. Every refusal is still counted: the first of a group in a minute is
 * written at once, durably, as any event; the further ones of that group and minute are counted
 * and written as one event per flush interval, with {@code count} and the first and last time.
 *
 * <p>A group is the event type, reason, RPC method and the caller (address, an IPv6 one by its /64, certificate,
 * authenticated user), plus the username where the refusal is about an account. Fields outside
 * the group (user agent; the username of address-wide refusals) are left empty in the counted
 * events. At most {@code maxGroups} groups are kept per minute; past that, further groups are
 * counted together per type, reason and method, without the caller.
 */
public final class RefusalRollup implements Refusals {
  private static final Logger log = LoggerFactory.getLogger(RefusalRollup.class);

  /** What refusals are counted together. */
  record Group(AuditEventType type, String reason, String rpcMethod, String clientIp, String actor,
      String peerIdentity, String username, long minute) {
    Group overflow() {
      return new Group(type, reason, rpcMethod, "", "", "", "", minute);
    }
  }

  private static final class Tally {
    final AuditEvent template;
    long pending;
    Instant first;
    Instant last;

    Tally(AuditEvent template) {
      this.template = template;
    }

    void add(Instant time) {
      if (pending == 0) {
        first = time;
        last = time;
      } else {
        first = time.isBefore(first) ? time : first;
        last = time.isAfter(last) ? time : last;
      }
      pending++;
    }
  }

  private final AuditSink sink;
  private final int maxGroups;
  private final Map<Group, Tally> tallies = new ConcurrentHashMap<>();

  public RefusalRollup(AuditSink sink, int maxGroups) {
    this.sink = sink;
    this.maxGroups = maxGroups;
  }

  /**
   * Counts one refusal, given as the event it would otherwise be; writes it at once (returning
   * when durable) if it is the first of its group this minute.
   */
  @Override
  public void count(AuditEvent refusal, boolean byUsername) {
    long minute = refusal.time().getEpochSecond() / 60;
    Group group = new Group(refusal.type(), refusal.reason(), refusal.rpcMethod(), AddressBlocks.of(refusal.clientIp()),
        refusal.actor(), refusal.peerIdentity(), byUsername ? refusal.username() : "", minute);
    if (!tallies.containsKey(group) && tallies.size() >= maxGroups) {
      group = group.overflow();
    }
    boolean[] first = new boolean[1];
    Group counted = group;
    tallies.compute(group, (g, tally) -> {
      if (tally == null) {
        first[0] = true;
        return new Tally(counted(refusal, counted));
      }
      tally.add(refusal.time());
      return tally;
    });
    if (first[0]) {
      sink.write(refusal);
    }
  }

  /** The refusal as its group shows it: only the grouped fields of the caller. */
  private static AuditEvent counted(AuditEvent e, Group g) {
    return new AuditEvent(e.id(), e.time(), e.type(), e.outcome(), g.username(), "", "", g.clientIp(), "",
        e.rpcMethod(), e.reason(), e.instance(), g.actor(), g.peerIdentity());
  }

  /** Writes the refusals counted since the last flush; forgets groups of past minutes. */
  public synchronized void flush(Instant now) {
    long minute = now.getEpochSecond() / 60;
    List<AuditEvent> events = new ArrayList<>();
    for (Map.Entry<Group, Tally> entry : tallies.entrySet()) {
      tallies.computeIfPresent(entry.getKey(), (g, tally) -> {
        if (tally.pending > 0) {
          events.add(tally.template.rollup(EventIds.at(tally.first), tally.pending, tally.first, tally.last));
          tally.pending = 0;
        }
        return g.minute() < minute ? null : tally;
      });
    }
    if (events.isEmpty()) {
      return;
    }
    try {
      sink.writeAll(events);
    } catch (RuntimeException e) {
      log.warn("could not write {} counts of refused calls: {}", events.size(), e.toString());
    }
  }

  /** Groups held now (for tests). */
  int groups() {
    return tallies.size();
  }
}
