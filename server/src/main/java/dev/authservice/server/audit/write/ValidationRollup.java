package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditSink;
import dev.authservice.server.audit.EventIds;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code AUTH_VALIDATION_AUDIT=rollup}: successful validations of the same token by the same
 * caller through the same RPC within the same minute are counted, not written one by one. Each flush (every few
 * seconds, and at shutdown) appends one event per token, RPC, caller and minute with the count and
 * the first and last time seen since the previous flush; a crash loses at most the counts of
 * one flush interval. Failures never come here: they are written individually and durably.
 */
public final class ValidationRollup {
  private static final Logger log = LoggerFactory.getLogger(ValidationRollup.class);

  /** The RPC is part of the group: a token checked by Validate and by Envoy's Check counts as two. */
  private record Key(String tokenId, String rpcMethod, String caller, long minute) {}

  private static final class Tally {
    final AuditEvent first;
    Instant last;
    long count;

    Tally(AuditEvent first) {
      this.first = first;
      this.last = first.time();
    }
  }

  private final AuditSink sink;
  private final java.util.concurrent.locks.ReadWriteLock swap = new java.util.concurrent.locks.ReentrantReadWriteLock();
  private volatile Map<Key, Tally> tallies = new ConcurrentHashMap<>();

  public ValidationRollup(AuditSink sink) {
    this.sink = sink;
  }

  /** Counts one successful validation, given as the event it would otherwise have been. */
  public void count(AuditEvent success) {
    Key key = new Key(success.tokenId(), success.rpcMethod(),
        success.clientIp() + "|" + success.actor() + "|" + success.peerIdentity(),
        success.time().getEpochSecond() / 60);
    swap.readLock().lock();
    try {
      tallies.compute(key, (k, tally) -> {
        Tally t = tally == null ? new Tally(success) : tally;
        t.count++;
        if (success.time().isAfter(t.last)) {
          t.last = success.time();
        }
        return t;
      });
    } finally {
      swap.readLock().unlock();
    }
  }

  /** Writes what was counted since the last flush. */
  public synchronized void flush() {
    Map<Key, Tally> done;
    swap.writeLock().lock();
    try {
      done = tallies;
      if (done.isEmpty()) {
        return;
      }
      tallies = new ConcurrentHashMap<>();
    } finally {
      swap.writeLock().unlock();
    }
    List<AuditEvent> events = new ArrayList<>(done.size());
    for (Tally t : done.values()) {
      events.add(t.first.rollup(EventIds.at(t.first.time()), t.count, t.first.time(), t.last));
    }
    try {
      sink.writeAll(events);
    } catch (RuntimeException e) {
      log.warn("could not write {} validation rollups: {}", events.size(), e.toString());
    }
  }
}
