package dev.authservice.server.audit.read;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.audit.chain.RegisteredChains;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * StreamAudit's cursor: a position in every chain (the last seq handled, delivered or filtered
 * out), and a merge of the chains' next events, oldest first. Because it counts positions in
 * chains rather than times, an event that lands late (spooled during an outage, or a rollup
 * whose time is its first occurrence) is delivered when it lands, never skipped. Events from
 * before chaining have no position and are not streamed.
 *
 * <p>A resume token cannot name every chain ever written (a chain per server run), so each
 * delivery carries a {@link StreamPosition}: a floor time, and positions for the chains the
 * floor does not describe exactly. The floor trails the latest time handled (the mark) by
 * {@link #FLOOR_LAG}; a chain is left out only when "everything at or before the floor was
 * handled, nothing after it" is exactly true of it:
 * <ul>
 *   <li>its writer stopped with a shutdown checkpoint that the stream has passed, and nothing of
 *       it after the floor was handled;
 *   <li>or its next event is later than the floor by more than {@link #LATE_TIME_SLACK} (so
 *       every later one is after the floor), and nothing of it after the floor was handled;
 *   <li>or it has been quiet since {@link #OPEN_HORIZON} before the mark (a run that crashed,
 *       or an instance with nothing to record; an event of it landing later, timed at or before
 *       the floor, is the one thing a resumed stream can then miss).
 * </ul>
 * Chains with events within the lag of the mark come first, then quiet open chains, newest
 * first, up to {@link StreamPosition#MAX_CHAINS}. If more than that must be listed (more than
 * 64 instances writing within five minutes of each other), the least recently active are left
 * to the floor: a resumed stream may then deliver their events after the floor again.
 */
public final class AuditStream {
  /** How much earlier than its predecessors an event may be timed (a validation rollup: its minute plus a flush). */
  static final Duration LATE_TIME_SLACK = Duration.ofMinutes(2);
  /**
   * How far the floor trails the mark: covers the slack, clocks of instances that differ, and
   * commits still in flight, so a chain the stream has not seen yet cannot have an event at or
   * before the floor unless it reached the store more than this late.
   */
  static final Duration FLOOR_LAG = Duration.ofMinutes(5);
  /** Quiet chains that have not shut down are listed for this long after their last event. */
  static final Duration OPEN_HORIZON = Duration.ofHours(1);
  /** The most events one chain's page asks for. */
  static final int PAGE = 1000;
  /**
   * The events a stream holds read ahead across all its chains, about 1.2 KB of heap each. Every
   * chain needs its next event in hand to merge by time, and every writer run is a chain: a
   * trail of a few hundred restarts read from its start held a page of 1,000 of each, enough to
   * exhaust the heap with one stream. A chain's page is what the others leave of this budget.
   */
  public static final int READ_AHEAD = 4_000;
  /** The least a chain's page asks for when the others hold the budget. */
  public static final int MIN_PAGE = 4;
  /** New chains (an instance that started) are looked for at most this often. */
  private static final long DISCOVERY_INTERVAL_NANOS = Duration.ofMillis(500).toNanos();
  /** A quiet chain is asked again whether it has shut down at most this often. */
  private static final long SHUTDOWN_RECHECK_NANOS = Duration.ofSeconds(10).toNanos();
  /**
   * A chain quiet for longer than the horizon is polled at most this often at first, then half as
   * often after each poll that finds nothing, down to once per {@link #STALE_POLL_MAX_NANOS}: every
   * run that crashed, and every run whose events retention removed, stays such a chain, and a
   * follow stream over a few thousand of them polled each every 5 s (hundreds of queries a second).
   */
  private static final long STALE_POLL_NANOS = Duration.ofSeconds(5).toNanos();
  /** The longest a quiet chain's next event waits to be seen by a follow stream. */
  public static final Duration STALE_POLL_MAX = Duration.ofMinutes(1);
  private static final long STALE_POLL_MAX_NANOS = STALE_POLL_MAX.toNanos();

  /** An event to deliver, and where the stream stands once it is delivered. */
  public record Delivery(AuditEvent event, StreamPosition position) {}

  private static final Comparator<AuditEvent> ORDER = Comparator.comparing(AuditEvent::time)
      .thenComparing(AuditEvent::chain).thenComparingLong(AuditEvent::seq);

  private final EventReads store;
  private final CheckpointStore checkpoints;
  private final RegisteredChains register;
  private final LongSupplier nanoTime;
  private final AuditFilter filter;
  private final StreamPosition resumed;
  /** With from_checkpoints: the time whose newest checkpoint each chain starts after. */
  private final Optional<Instant> anchorTime;
  private final Map<String, Cursor> cursors = new LinkedHashMap<>();
  /** The latest event time handled, and the floor carried over from the resume token. */
  private long mark;
  private final long resumedFloor;
  private long lastDiscovery;
  private boolean discovered;
  /** Pages of events read from the store so far: every event delivered was read by one of them. */
  private long pagesRead;
  /** Events read from the store and not yet taken, over all chains: at most about {@link #READ_AHEAD}. */
  private long readAhead;

  /** {@code from}: where a resumed stream left off, or {@link StreamPosition#START}. */
  public AuditStream(EventReads store, CheckpointStore checkpoints, AuditFilter filter, StreamPosition from) {
    this(store, checkpoints, filter, from, false);
  }

  /**
   * {@code fromCheckpoints}: each chain starts right after what its newest checkpoint at or
   * before the filter's start names, and every event from there is delivered whatever its
   * time, so that an export's chains begin at signed heads (the start bound then only picks
   * those checkpoints).
   */
  public AuditStream(EventReads store, CheckpointStore checkpoints, AuditFilter filter, StreamPosition from,
      boolean fromCheckpoints) {
    this(store, checkpoints, filter, from, fromCheckpoints, System::nanoTime);
  }

  /** As above; {@code nanoTime}: the monotonic time its polling intervals are measured in. */
  public AuditStream(EventReads store, CheckpointStore checkpoints, AuditFilter filter, StreamPosition from,
      boolean fromCheckpoints, LongSupplier nanoTime) {
    this.store = store;
    this.checkpoints = checkpoints;
    this.nanoTime = nanoTime;
    this.register = new RegisteredChains(checkpoints, nanoTime);
    this.anchorTime = fromCheckpoints ? filter.start() : Optional.empty();
    this.filter = anchorTime.isPresent() ? filter.between(Optional.empty(), filter.end()) : filter;
    this.resumed = from;
    this.mark = from.mark();
    this.resumedFloor = from.floor();
  }

  /**
   * The events that can be delivered now, in order, at most {@code max}; empty when every chain
   * has nothing more right now (or, with an end time, is past it).
   */
  public List<Delivery> next(int max) {
    long now = nanoTime.getAsLong();
    if (!discovered || now - lastDiscovery > DISCOVERY_INTERVAL_NANOS) {
      discoverChains();
      lastDiscovery = now;
    }
    // an empty chain is asked once per call, not once per event delivered
    cursors.values().forEach(c -> c.askedThisRound = false);
    List<Delivery> out = new ArrayList<>();
    while (out.size() < max) {
      Cursor from = null;
      AuditEvent oldest = null;
      for (Cursor cursor : cursors.values()) {
        AuditEvent head = cursor.head(now);
        if (head != null && (oldest == null || ORDER.compare(head, oldest) < 0)) {
          oldest = head;
          from = cursor;
        }
      }
      if (oldest == null) {
        break;
      }
      from.take(oldest);
      if (filter.matches(oldest)) {
        out.add(new Delivery(oldest, position()));
      }
    }
    return out;
  }

  /**
   * How many pages of events this stream has read from the store. Every event {@link #next}
   * returns was read by then: if this has not changed since some moment, neither has anything
   * delivered after it been read after that moment.
   */
  public long pagesRead() {
    return pagesRead;
  }

  /** Where the stream stands now: also covers events examined and filtered out since the last delivery. */
  public StreamPosition position() {
    long floor = floor();
    List<Cursor> active = new ArrayList<>();
    List<Cursor> quiet = new ArrayList<>();
    for (Cursor cursor : cursors.values()) {
      if (cursor.isActive(floor)) {
        active.add(cursor);
      } else if (cursor.isQuietAndOpen()) {
        quiet.add(cursor);
      }
    }
    Map<StreamPosition.ChainKey, Long> listed = new HashMap<>();
    if (active.size() + quiet.size() > StreamPosition.MAX_CHAINS) {
      active.sort(Comparator.comparingLong((Cursor c) -> c.recentActivity()).reversed());
      quiet.sort(Comparator.comparingLong((Cursor c) -> c.lastSeen).reversed());
    }
    for (List<Cursor> group : List.of(active, quiet)) {
      for (Cursor cursor : group) {
        if (listed.size() == StreamPosition.MAX_CHAINS) {
          break;
        }
        listed.put(cursor.key, cursor.position);
      }
    }
    return new StreamPosition(floor, mark, listed);
  }

  /** Everything at or before this time counts as handled in chains the position does not list. */
  private long floor() {
    long lag = FLOOR_LAG.toMillis();
    long trailing = mark < StreamPosition.NONE + lag ? StreamPosition.NONE : mark - lag;
    return Math.max(resumedFloor, trailing);
  }

  private void discoverChains() {
    // Every writer run registers its chain before its first event; the first discovery also
    // walks the events, for chains written before the register existed.
    java.util.LinkedHashSet<String> chains = new java.util.LinkedHashSet<>(register.current());
    if (!discovered) {
      chains.addAll(store.chains());
      discovered = true;
    }
    for (String chain : chains) {
      cursors.computeIfAbsent(chain, this::cursor);
    }
  }

  private Cursor cursor(String chain) {
    StreamPosition.ChainKey key = StreamPosition.ChainKey.of(chain);
    Long listed = resumed.chains().get(key);
    if (listed != null) {
      // how recent its handled events were is unknown: as recent as the mark (a token of the
      // first kind has no mark, so such a chain stays listed)
      long recent = resumed.mark() == StreamPosition.NONE ? Long.MAX_VALUE : resumed.mark();
      return new Cursor(chain, key, listed, StreamPosition.NONE, recent, recent);
    }
    long startTime = Math.max(resumedFloor,
        filter.start().map(Instant::toEpochMilli).orElse(StreamPosition.NONE));
    long position = anchorTime.isPresent() ? checkpoints.seqCheckpointedBy(chain, anchorTime.get())
        : startPosition(chain, startTime);
    return new Cursor(chain, key, position, resumedFloor, StreamPosition.NONE, chainStart(chain));
  }

  /** Where a chain starts: after what its last checkpoint before the start (less the slack) vouched for. */
  private long startPosition(String chain, long startTime) {
    if (startTime == StreamPosition.NONE) {
      return 0;
    }
    return checkpoints.seqCheckpointedBy(chain, Instant.ofEpochMilli(startTime).minus(LATE_TIME_SLACK));
  }

  /** When a chain's writer run started, from its id ({@link AuditChains#chainId}); NONE if it does not say. */
  private static long chainStart(String chain) {
    int colon = chain.lastIndexOf(':');
    try {
      return colon < 0 ? StreamPosition.NONE : Long.parseLong(chain.substring(colon + 1));
    } catch (NumberFormatException e) {
      return StreamPosition.NONE;
    }
  }

  /** One chain: its position, its next events, and what the resume token needs to know of it. */
  private final class Cursor {
    final String chain;
    final StreamPosition.ChainKey key;
    final Deque<AuditEvent> buffer = new ArrayDeque<>();
    /** The last seq handled. */
    long position;
    /** Events at or before this time were handled before a resume; NONE once passed. */
    long floor;
    /** The latest time of an event handled since the floor. */
    long maxHandled;
    /** The latest time known of the chain: an event handled, or its start. */
    long lastSeen;
    /** Past the filter's end: nothing more of it can match. */
    boolean finished;
    boolean askedThisRound;
    OptionalLong shutdownSeq = OptionalLong.empty();
    long shutdownCheckedAt;
    boolean shutdownChecked;
    /** A stale chain is not polled again before this time (the stream's nanoTime), when backingOff. */
    long nextPoll;
    boolean backingOff;
    /** How long the next stale poll waits: doubles with each that finds nothing. */
    long stalePollWait = STALE_POLL_NANOS;

    Cursor(String chain, StreamPosition.ChainKey key, long position, long floor, long maxHandled, long lastSeen) {
      this.chain = chain;
      this.key = key;
      this.position = position;
      this.floor = floor;
      this.maxHandled = maxHandled;
      this.lastSeen = lastSeen;
    }

    /** The chain's next event to merge, reading more when its buffer is empty; null if none now. */
    AuditEvent head(long now) {
      while (true) {
        if (buffer.isEmpty() && !fetch(now)) {
          return null;
        }
        AuditEvent head = buffer.peekFirst();
        if (floor == StreamPosition.NONE || head.time().toEpochMilli() > floor) {
          // past what the resumed token's floor covered: from here on, positions decide
          floor = StreamPosition.NONE;
          return head;
        }
        // handled before the resume: step over it without delivering
        buffer.pollFirst();
        readAhead--;
        position = head.seq();
        lastSeen = Math.max(lastSeen, head.time().toEpochMilli());
      }
    }

    private boolean fetch(long now) {
      if (finished || askedThisRound || passedShutdown() || (backingOff && now - nextPoll < 0)) {
        return false;
      }
      List<AuditEvent> page = store.chainPage(chain, position, pageSize());
      backingOff = false;
      if (!page.isEmpty()) {
        stalePollWait = STALE_POLL_NANOS;
        pagesRead++;
        buffer.addAll(page);
        readAhead += page.size();
        return true;
      }
      askedThisRound = true;
      if (!shutdownChecked || now - shutdownCheckedAt > SHUTDOWN_RECHECK_NANOS) {
        shutdownSeq = checkpoints.shutdownSeq(chain);
        shutdownChecked = true;
        shutdownCheckedAt = now;
      }
      if (isStale()) {
        backingOff = true;
        nextPoll = now + stalePollWait;
        stalePollWait = Math.min(STALE_POLL_MAX_NANOS, stalePollWait * 2);
      }
      return false;
    }

    /** This chain's next page: what the other chains' read-ahead leaves of the budget (this one's is empty). */
    private int pageSize() {
      return (int) Math.max(MIN_PAGE, Math.min(PAGE, READ_AHEAD - readAhead));
    }

    void take(AuditEvent event) {
      buffer.pollFirst();
      readAhead--;
      position = event.seq();
      long time = event.time().toEpochMilli();
      maxHandled = Math.max(maxHandled, time);
      lastSeen = Math.max(lastSeen, time);
      mark = Math.max(mark, time);
      if (filter.end().isPresent() && !event.time().isBefore(filter.end().get().plus(LATE_TIME_SLACK))) {
        // later events of this chain are later still, by more than any event can be early
        finished = true;
        readAhead -= buffer.size();
        buffer.clear();
      }
    }

    boolean passedShutdown() {
      return shutdownSeq.isPresent() && position >= shutdownSeq.getAsLong();
    }

    /** Whether the floor would misdescribe it: handled events after the floor, or a next event near it. */
    boolean isActive(long floor) {
      if (maxHandled != StreamPosition.NONE && maxHandled > floor) {
        return true;
      }
      AuditEvent next = buffer.peekFirst();
      return next != null && next.time().toEpochMilli() <= floor + LATE_TIME_SLACK.toMillis();
    }

    /** Nothing waiting, not shut down, and heard of within the horizon before the mark. */
    boolean isQuietAndOpen() {
      return buffer.isEmpty() && !finished && !passedShutdown() && !isStale();
    }

    private boolean isStale() {
      return lastSeen == StreamPosition.NONE
          || (mark != StreamPosition.NONE && lastSeen < mark - OPEN_HORIZON.toMillis());
    }

    long recentActivity() {
      AuditEvent next = buffer.peekFirst();
      return Math.max(maxHandled, next == null ? StreamPosition.NONE : next.time().toEpochMilli());
    }
  }
}
