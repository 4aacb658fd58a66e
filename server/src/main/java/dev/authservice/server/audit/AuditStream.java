package dev.authservice.server.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * StreamAudit's cursor: a position in every chain (the last seq handled, delivered or filtered
 * out), and a merge of the chains' next events, oldest first. Because it counts positions in
 * chains rather than times, an event that lands late (spooled during an outage, or a rollup
 * whose time is its first occurrence) is delivered when it lands, never skipped, and a resumed
 * stream repeats nothing. Events from before chaining have no position and are not streamed.
 */
public final class AuditStream {
  /** How much earlier than its predecessors an event may be timed (a validation rollup: its minute plus a flush). */
  static final Duration LATE_TIME_SLACK = Duration.ofMinutes(2);
  private static final int PAGE = 1000;

  /** An event to deliver, and the positions once it is delivered. */
  public record Delivery(AuditEvent event, Map<String, Long> positions) {}

  private final AuditStore store;
  private final CheckpointStore checkpoints;
  private final AuditFilter filter;
  private final Optional<Instant> start;
  private final boolean fromCheckpoints;
  private final Map<String, Long> positions;
  private final Map<String, Deque<AuditEvent>> buffers = new LinkedHashMap<>();
  private final java.util.Set<String> finished = new java.util.HashSet<>();
  /** New chains (an instance that started) are looked for at most this often. */
  private static final long DISCOVERY_INTERVAL_NANOS = Duration.ofMillis(500).toNanos();
  private long lastDiscovery;

  /** {@code positions}: where a resumed stream left off; chains not in it start from the filter's start. */
  public AuditStream(AuditStore store, CheckpointStore checkpoints, AuditFilter filter, Map<String, Long> positions) {
    this(store, checkpoints, filter, positions, false);
  }

  /**
   * {@code fromCheckpoints}: each chain starts right after what its newest checkpoint at or
   * before the filter's start names, and every event from there is delivered whatever its
   * time, so that an export's chains begin at signed heads (the start bound then only picks
   * those checkpoints).
   */
  public AuditStream(AuditStore store, CheckpointStore checkpoints, AuditFilter filter, Map<String, Long> positions,
      boolean fromCheckpoints) {
    this.store = store;
    this.checkpoints = checkpoints;
    this.start = filter.start();
    this.fromCheckpoints = fromCheckpoints && start.isPresent();
    this.filter = this.fromCheckpoints ? new AuditFilter(filter.types(), filter.username(), filter.outcome(),
        Optional.empty(), filter.end(), filter.clientIp(), filter.tokenId()) : filter;
    this.positions = new LinkedHashMap<>(positions);
  }

  /**
   * The events that can be delivered now, in order, at most {@code max}; empty when every chain
   * has nothing more right now (or, with an end time, is past it).
   */
  public List<Delivery> next(int max) {
    long now = System.nanoTime();
    if (now - lastDiscovery > DISCOVERY_INTERVAL_NANOS || buffers.isEmpty()) {
      discoverChains();
      lastDiscovery = now;
    }
    List<Delivery> out = new ArrayList<>();
    while (out.size() < max) {
      String from = null;
      AuditEvent oldest = null;
      for (Map.Entry<String, Deque<AuditEvent>> entry : buffers.entrySet()) {
        AuditEvent head = head(entry.getKey(), entry.getValue());
        if (head != null && (oldest == null || ORDER.compare(head, oldest) < 0)) {
          oldest = head;
          from = entry.getKey();
        }
      }
      if (oldest == null) {
        break;
      }
      buffers.get(from).pollFirst();
      positions.put(from, oldest.seq());
      if (filter.end().isPresent() && !oldest.time().isBefore(filter.end().get().plus(LATE_TIME_SLACK))) {
        // later events of this chain are later still, by more than any event can be early
        finished.add(from);
        buffers.get(from).clear();
      }
      if (filter.matches(oldest)) {
        out.add(new Delivery(oldest, Map.copyOf(positions)));
      }
    }
    return out;
  }

  /** Positions now: also covers events examined and filtered out since the last delivery. */
  public Map<String, Long> positions() {
    return Map.copyOf(positions);
  }

  private static final Comparator<AuditEvent> ORDER = Comparator.comparing(AuditEvent::time)
      .thenComparing(AuditEvent::chain).thenComparingLong(AuditEvent::seq);

  private AuditEvent head(String chain, Deque<AuditEvent> buffer) {
    if (buffer.isEmpty() && !finished.contains(chain)) {
      buffer.addAll(store.chainPage(chain, positions.get(chain), PAGE));
    }
    return buffer.peekFirst();
  }

  private void discoverChains() {
    for (String chain : store.chains()) {
      if (!buffers.containsKey(chain)) {
        buffers.put(chain, new ArrayDeque<>());
        positions.computeIfAbsent(chain, this::startPosition);
      }
    }
  }

  /** Where a chain starts for this filter: after what its last checkpoint before the start vouched for. */
  private long startPosition(String chain) {
    if (fromCheckpoints) {
      return checkpoints.seqCheckpointedBy(chain, start.orElseThrow());
    }
    return start.map(s -> checkpoints.seqCheckpointedBy(chain, s.minus(LATE_TIME_SLACK))).orElse(0L);
  }
}
