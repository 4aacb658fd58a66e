package dev.authservice.integrity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * Verifies a trail the way an outside auditor would, in three steps: {@link #checkpoint} every
 * checkpoint; then, for each of {@link #chainsToVerify()}, hand {@link #chain} that chain's
 * events in seq order starting after {@link #startAfter}; then {@link #finish}. Events stream
 * through one at a time; memory grows with the number of checkpoints, not of events.
 *
 * <p>Signed checkpoints make claims ("chain C had reached seq N with hash H"); the hash chain
 * links every event to the one before it. An event that does not match its own hash was altered;
 * a sequence number without an event is missing; an event whose hash fits another position was
 * moved; a chain that ends before a claim was truncated, one without events that a claim names
 * is missing. Verification goes on past the first problem and reports every chain.
 *
 * <p>Every event handed in is either checked or reported: events before the head a chain is
 * verified from count only if they link, hash by hash, up to that signed head; any other is
 * {@link Problem#UNLINKED_EVENT}. Events after every claim (unanchored) are accepted only where
 * they could be genuinely new ({@link Problem#UNVOUCHED_CHAIN} otherwise): a chain no signed
 * checkpoint names at all may not be older, by more than {@link #UNVOUCHED_MARGIN_MILLIS}, than
 * the newest signed checkpoint, since each run names the head of every registered chain that has
 * events in its first checkpoint (and later each that has not shut down); and nothing may follow
 * a chain's own shutdown checkpoint, which its writer signs after its last event (spooled ones
 * included).
 */
public final class TrailVerifier {
  /** How far on either side a moved event's true position is looked for. */
  private static final int MOVE_SEARCH = 16;
  private static final int MAX_PROBLEMS_KEPT = 100;
  /**
   * How much older than a signed checkpoint an event may be and still be missing from it: an
   * event is timed before it reaches the store (a commit in flight, a validation rollup timed at
   * its first occurrence and flushed seconds later) and by its own instance's clock. The same
   * five minutes StreamAudit's resume floor trails by for those reasons.
   */
  public static final long UNVOUCHED_MARGIN_MILLIS = java.time.Duration.ofMinutes(5).toMillis();

  /**
   * Only events between checkpoints at or before {@code start} and at or after {@code end}; null
   * means unbounded. The bounds only pick which signed claims a chain is verified from and to:
   * each chain still starts at a signed head (its own newest checkpoint at or before the start,
   * the one StreamAudit's {@code from_checkpoints} starts the chain after; a purge; or seq 1
   * with the zero hash), never at whatever event happens to come first, so a start that is
   * wrong can make a verification cover less but never trust more. Other chains' claims about
   * it are checked when the walk passes them, and bound where it must end.
   */
  public record Window(Long startMillis, Long endMillis) {
    public static final Window ALL = new Window(null, null);
  }

  private record Claim(long seq, String hash, long time) {}

  /**
   * What is kept of a chain's own checkpoint once its signature is checked: its place and the
   * hashes that link it to the one before. Not the checkpoint itself, whose signature carries its
   * whole payload again: a busy instance signs 8,640 a day, and a verification keeps every one.
   */
  private record Own(long seq, long time, String hash, String checkpointHash, String prevCheckpointHash) {
    static Own of(Checkpoint c) {
      return new Own(c.seq(), c.time(), c.hash(), c.checkpointHash(), c.prevCheckpointHash());
    }
  }

  private record Found(Problem problem, long seq, String detail) {}

  private final CheckpointSignatures signatures;
  private final Window window;
  private final Map<String, List<Own>> ownCheckpoints = new HashMap<>();
  /** In a window: each chain's own newest checkpoint at or before the start, past any purge. */
  private final Map<String, Own> anchors = new HashMap<>();
  /** The newest signed checkpoint naming each chain (its own, or another's heads), by time. */
  private final Map<String, Long> lastNamed = new HashMap<>();
  /** The newest signed periodic or shutdown checkpoint of the whole trail, if any. */
  private Checkpoint newest;
  /** Each chain's signed shutdown checkpoint: its writer's last word on it. */
  private final Map<String, Checkpoint> shutdowns = new HashMap<>();
  private long unchained;
  private final Map<String, NavigableMap<Long, Claim>> claims = new HashMap<>();
  private final Map<String, Checkpoint> purges = new HashMap<>();
  private final Map<String, List<Checkpoint.Lost>> losses = new HashMap<>();
  private final Map<String, List<Found>> problems = new HashMap<>();
  private final Map<String, long[]> eventCounts = new HashMap<>();
  private final Set<String> chains = new LinkedHashSet<>();
  private boolean checkpointsDone;
  private long checkpointsVerified;
  private long eventsVerified;
  private long unanchored;

  public TrailVerifier(CheckpointSignatures signatures, Window window) {
    this.signatures = signatures;
    this.window = window;
  }

  /** One checkpoint, in any order. */
  public void checkpoint(Checkpoint c) {
    if (checkpointsDone) {
      throw new IllegalStateException("all checkpoints come before the first chain");
    }
    chains.add(c.chain());
    Optional<String> bad = signatures.problem(c);
    if (bad.isPresent()) {
      found(c.chain(), Problem.BAD_CHECKPOINT, c.seq(), "the " + c.kind().name().toLowerCase() + " checkpoint at seq "
          + c.seq() + " is not trustworthy: " + bad.get());
      return;
    }
    checkpointsVerified++;
    if (c.kind() == Checkpoint.Kind.PURGE) {
      purges.merge(c.chain(), c, (a, b) -> a.seq() >= b.seq() ? a : b);
      return;
    }
    ownCheckpoints.computeIfAbsent(c.chain(), k -> new ArrayList<>()).add(Own.of(c));
    losses.computeIfAbsent(c.chain(), k -> new ArrayList<>()).addAll(c.lost());
    claim(c.chain(), c.seq(), c.hash(), c.time());
    for (Checkpoint.Head head : c.heads()) {
      chains.add(head.chain());
      claim(head.chain(), head.seq(), head.hash(), c.time());
    }
    if (newest == null || c.time() > newest.time()) {
      newest = c;
    }
    if (c.kind() == Checkpoint.Kind.SHUTDOWN) {
      shutdowns.merge(c.chain(), c, (x, y) -> x.seq() >= y.seq() ? x : y);
    }
  }

  private void claim(String chain, long seq, String hash, long time) {
    NavigableMap<Long, Claim> byChain = claims.computeIfAbsent(chain, k -> new TreeMap<>());
    Claim earlier = byChain.get(seq);
    if (earlier != null && !earlier.hash().equals(hash)) {
      found(chain, Problem.BAD_CHECKPOINT, seq, "two signed checkpoints name different hashes for seq " + seq);
    }
    if (earlier == null || time < earlier.time()) {
      byChain.put(seq, new Claim(seq, hash, time));
    }
    lastNamed.merge(chain, time, Math::max);
  }

  /**
   * Events that name no chain (an export never holds any: events from before chaining are not
   * streamed): nothing links them to a signed head, so they are reported, never skipped.
   */
  public void unchained(long count) {
    unchained += count;
  }

  /** Every chain a checkpoint names, plus those the caller found events of. */
  public Set<String> chainsToVerify(Set<String> chainsWithEvents) {
    finishCheckpoints();
    Set<String> all = new LinkedHashSet<>(chains);
    all.addAll(chainsWithEvents);
    return all;
  }

  /**
   * Checks each chain's checkpoints link up: each names the hash of the one before it, from the
   * first (or the purge) on; in a window, from the chain's newest checkpoint at or before the
   * start on, the one a windowed export carries as its anchor.
   */
  private void finishCheckpoints() {
    if (checkpointsDone) {
      return;
    }
    checkpointsDone = true;
    for (Map.Entry<String, List<Own>> entry : ownCheckpoints.entrySet()) {
      List<Own> sorted = entry.getValue();
      sorted.sort(Comparator.comparingLong(Own::seq).thenComparingLong(Own::time));
      Checkpoint purge = purges.get(entry.getKey());
      String expected = purge != null ? purge.prevCheckpointHash() : Hashes.ZERO;
      int from = 0;
      for (int i = 0; i < sorted.size(); i++) {
        Own c = sorted.get(i);
        if (window.startMillis() != null && c.time() <= window.startMillis() && (purge == null || c.seq() > purge.seq())) {
          from = i + 1;
          expected = c.checkpointHash();
          anchors.put(entry.getKey(), c);
        }
      }
      for (Own c : sorted.subList(from, sorted.size())) {
        if (purge != null && c.seq() <= purge.seq()) {
          continue;
        }
        if (!c.prevCheckpointHash().equals(expected)) {
          found(entry.getKey(), Problem.BAD_CHECKPOINT, c.seq(), "the checkpoint at seq " + c.seq()
              + " follows a checkpoint that is gone or was altered");
        }
        expected = c.checkpointHash();
      }
    }
  }

  /** The seq a chain's verification starts after, and the hash expected there (ZERO before seq 1). */
  public record Start(long afterSeq, String hash) {}

  /**
   * The newest purge, or in a window the chain's own newest checkpoint at or before the start if
   * it is further on: exactly where StreamAudit's {@code from_checkpoints} starts the chain (it
   * asks the chain's own checkpoints too), so an export holds no event before it. Another
   * chain's claim never moves the start: it is checked when the walk passes its seq.
   */
  public Start startAfter(String chain) {
    finishCheckpoints();
    Own anchor = anchors.get(chain);
    if (anchor != null) {
      return new Start(anchor.seq(), anchor.hash());
    }
    Checkpoint purge = purges.get(chain);
    return purge != null ? new Start(purge.seq(), purge.hash()) : new Start(0, Hashes.ZERO);
  }

  /** The last seq the window covers, or Long.MAX_VALUE. */
  private long stopAt(String chain) {
    if (window.endMillis() == null) {
      return Long.MAX_VALUE;
    }
    for (Claim claim : claims.getOrDefault(chain, new TreeMap<>()).values()) {
      if (claim.time() >= window.endMillis()) {
        return claim.seq();
      }
    }
    return Long.MAX_VALUE;
  }

  /**
   * One chain's events, in seq order. Events at or before {@link #startAfter} (an export made
   * by hand, or one whose unsigned start was moved later) are checked backwards from that head.
   */
  public void chain(String chain, Iterator<ChainedEvent> events) {
    finishCheckpoints();
    chains.add(chain);
    Start start = startAfter(chain);
    long stop = stopAt(chain);
    NavigableMap<Long, Claim> byChain = claims.getOrDefault(chain, new TreeMap<>());
    long maxClaim = byChain.isEmpty() ? 0 : byChain.headMap(stop, true).isEmpty() ? 0
        : byChain.headMap(stop, true).lastKey();
    BeforeHead beforeHead = new BeforeHead(chain, start, byChain);
    long expected = start.afterSeq() + 1;
    String prev = start.hash();
    long lastSeq = start.afterSeq();
    long count = 0;
    long chainUnanchored = 0;
    long chainLost = 0;
    Unvouched unvouched = new Unvouched(chain);
    boolean first = true;
    while (events.hasNext()) {
      ChainedEvent e = events.next();
      if (e.seq() <= start.afterSeq()) {
        count++;
        beforeHead.add(e);
        continue;
      }
      if (e.seq() > stop) {
        break;
      }
      beforeHead.close();
      count++;
      if (e.seq() > maxClaim) {
        chainUnanchored++;
      }
      unvouched.check(e);
      if (e.seq() > expected) {
        Optional<Checkpoint.Lost> lost = lostThrough(chain, expected, e.seq() - 1);
        if (lost.isPresent()) {
          // never written, and a signed checkpoint says so: linked across by the hashes it signed
          chainLost += e.seq() - expected;
          Optional<Checkpoint.Lost> firstLost = lostThrough(chain, expected, expected);
          if (prev != null && firstLost.get().fromSeq() == expected && !prev.equals(firstLost.get().prevHash())) {
            found(chain, Problem.HASH_MISMATCH, expected - 1, "the event at seq " + (expected - 1)
                + " is not the one the lost events from seq " + expected + " were chained to");
          }
          prev = lost.get().toSeq() == e.seq() - 1 ? lost.get().hash() : null;
        } else {
          // numbers a signed loss record covers are lost; the first one it does not is missing
          long missingFrom = firstUncovered(chain, expected, e.seq() - 1);
          chainLost += missingFrom - expected;
          found(chain, Problem.MISSING_EVENT, missingFrom, (e.seq() == missingFrom + 1
              ? "seq " + missingFrom + " is missing" : "seq " + missingFrom + " to " + (e.seq() - 1) + " are missing")
              + (first ? startNote(chain, start) : ""));
          prev = null;
        }
      }
      first = false;
      if (intact(chain, e) && prev != null && !prev.equals(e.prevHash())) {
        found(chain, Problem.HASH_MISMATCH, e.seq() - 1, "the event at seq " + (e.seq() - 1)
            + " is not the one seq " + e.seq() + " was chained to");
      }
      matchesClaim(chain, byChain, e);
      prev = e.hash();
      expected = e.seq() + 1;
      lastSeq = e.seq();
    }
    beforeHead.close();
    unvouched.report();
    if (count == beforeHead.count && maxClaim > start.afterSeq()) {
      found(chain, Problem.CHAIN_MISSING, start.afterSeq() + 1, "checkpoints cover seq up to " + maxClaim
          + " but the chain has no events " + (start.afterSeq() == 0 ? "left" : "after seq " + start.afterSeq())
          + startNote(chain, start));
    } else if (maxClaim > lastSeq && lostThrough(chain, lastSeq + 1, maxClaim).isEmpty()) {
      found(chain, Problem.CHAIN_TRUNCATED, lastSeq + 1, "checkpoints cover seq up to " + maxClaim
          + " but the chain ends at seq " + lastSeq);
    }
    eventsVerified += count;
    unanchored += chainUnanchored;
    eventCounts.put(chain, new long[] {count, chainUnanchored, chainLost});
  }

  /**
   * Events no signed checkpoint vouches for although one would have to if they were genuine:
   * after the chain's own shutdown checkpoint (its writer's last word), or in a chain no
   * checkpoint names at all, timed well before the newest checkpoint, which named every
   * registered chain that had events and had not shut down (one that had is named by its own
   * shutdown checkpoint). A chain no checkpoint names whose events are newer than that may be a
   * new instance's, and is merely unanchored.
   */
  private final class Unvouched {
    private final String chain;
    private final Checkpoint shutdown;
    private final boolean neverNamed;
    private long afterShutdown;
    private long firstAfterShutdown;
    private long old;
    private long firstOld;

    Unvouched(String chain) {
      this.chain = chain;
      this.shutdown = shutdowns.get(chain);
      this.neverNamed = !claims.containsKey(chain) && !purges.containsKey(chain);
    }

    void check(ChainedEvent e) {
      if (shutdown != null && e.seq() > shutdown.seq()) {
        firstAfterShutdown = afterShutdown++ == 0 ? e.seq() : firstAfterShutdown;
      }
      if (neverNamed && newest != null && e.time() < newest.time() - UNVOUCHED_MARGIN_MILLIS) {
        firstOld = old++ == 0 ? e.seq() : firstOld;
      }
    }

    private static String fromSeq(long n, long first) {
      return n == 1 ? "the event at seq " + first : n + " events from seq " + first + " on";
    }

    void report() {
      if (afterShutdown > 0) {
        found(chain, Problem.UNVOUCHED_CHAIN, firstAfterShutdown, fromSeq(afterShutdown, firstAfterShutdown)
            + (afterShutdown == 1 ? " follows" : " follow") + " the chain's signed shutdown checkpoint at seq "
            + shutdown.seq() + " (" + java.time.Instant.ofEpochMilli(shutdown.time()) + "), after which its writer"
            + " wrote nothing");
      }
      if (old > 0) {
        found(chain, Problem.UNVOUCHED_CHAIN, firstOld, fromSeq(old, firstOld)
            + (old == 1 ? " is" : " are") + " older than the signed checkpoint of " + newest.chain() + " at "
            + java.time.Instant.ofEpochMilli(newest.time()) + " by more than "
            + java.time.Duration.ofMillis(UNVOUCHED_MARGIN_MILLIS).toMinutes() + " minutes, yet no checkpoint names this"
            + " chain (each run names every registered chain with events): it was added after that checkpoint was"
            + " signed");
      }
    }
  }

  /** Whether the event matches its own hash; reports it (altered, or moved) when it does not. */
  private boolean intact(String chain, ChainedEvent e) {
    if (Hashes.of(e).equals(e.hash())) {
      return true;
    }
    long home = homeOf(e);
    if (home > 0) {
      found(chain, Problem.OUT_OF_ORDER, Math.min(home, e.seq()), "event " + e.id() + " is at seq " + e.seq()
          + " but was written at seq " + home);
    } else {
      found(chain, Problem.HASH_MISMATCH, e.seq(), "event " + e.id() + " at seq " + e.seq()
          + " does not match its hash: a field was changed");
    }
    return false;
  }

  /** Whether no signed claim names another hash for the event's seq; reports it when one does. */
  private boolean matchesClaim(String chain, NavigableMap<Long, Claim> byChain, ChainedEvent e) {
    Claim claim = byChain.get(e.seq());
    if (claim != null && !claim.hash().equals(e.hash())) {
      found(chain, Problem.HASH_MISMATCH, e.seq(), "a signed checkpoint holds another hash for seq " + e.seq()
          + ": the events up to it were rewritten");
      return false;
    }
    return true;
  }

  /**
   * Whether an event at {@code nextSeq} chained to {@code nextPrevHash} follows the one at
   * {@code prevSeq} with hash {@code prevHash}: directly, or across numbers a signed loss record
   * covers, by the hashes it signed.
   */
  private boolean follows(String chain, long prevSeq, String prevHash, long nextSeq, String nextPrevHash) {
    if (nextSeq == prevSeq + 1) {
      return prevHash.equals(nextPrevHash);
    }
    if (nextSeq <= prevSeq) {
      return false;
    }
    Optional<Checkpoint.Lost> last = lostThrough(chain, prevSeq + 1, nextSeq - 1);
    Optional<Checkpoint.Lost> firstLost = lostThrough(chain, prevSeq + 1, prevSeq + 1);
    return last.isPresent() && firstLost.get().fromSeq() == prevSeq + 1 && prevHash.equals(firstLost.get().prevHash())
        && last.get().toSeq() == nextSeq - 1 && last.get().hash().equals(nextPrevHash);
  }

  /**
   * The events at or before the head a chain is verified from. A hash chain can be checked
   * backwards from a signed hash as well as forwards: the run of events that links, hash by
   * hash, up to the head's signed hash is as it was written; every other one is unlinked.
   * Streams with the events: it remembers the current run, not its events.
   */
  private final class BeforeHead {
    private final String chain;
    private final Start head;
    private final NavigableMap<Long, Claim> claimed;
    long count;
    private long runFrom;
    private long runLast;
    private String runHash;
    private long runCount;
    private long unlinked;
    private long unlinkedFrom;
    private long unlinkedTo;
    private boolean closed;

    BeforeHead(String chain, Start head, NavigableMap<Long, Claim> claimed) {
      this.chain = chain;
      this.head = head;
      this.claimed = claimed;
    }

    void add(ChainedEvent e) {
      count++;
      // both checks run, so that each reports what it finds
      boolean sound = intact(chain, e) & matchesClaim(chain, claimed, e);
      if (runCount > 0 && (!sound || !follows(chain, runLast, runHash, e.seq(), e.prevHash()))) {
        drop();
      }
      if (!sound) {
        // reported already, and nothing before it can link through it
        return;
      }
      if (runCount == 0) {
        runFrom = e.seq();
      }
      runCount++;
      runLast = e.seq();
      runHash = e.hash();
    }

    private void drop() {
      unlinked(runFrom, runLast, runCount);
      runCount = 0;
    }

    private void unlinked(long from, long to, long n) {
      if (unlinked == 0) {
        unlinkedFrom = from;
      }
      unlinked += n;
      unlinkedTo = to;
    }

    /** After the last event at or before the head: the run must end at the head's signed hash. */
    void close() {
      if (closed) {
        return;
      }
      closed = true;
      if (runCount > 0 && !follows(chain, runLast, runHash, head.afterSeq() + 1, head.hash())) {
        if (runLast == head.afterSeq()) {
          found(chain, Problem.HASH_MISMATCH, runLast, "the event at seq " + runLast + " is not the one the signed"
              + " head the chain is verified from names: the events up to it were rewritten");
        }
        drop();
      }
      if (unlinked > 0) {
        found(chain, Problem.UNLINKED_EVENT, unlinkedFrom, unlinked == 1
            ? "the event at seq " + unlinkedFrom + " in the file comes before the signed head the chain is verified"
                + " from (" + headName(chain, head) + ") and does not link up to it, so nothing vouches for it"
            : unlinked + " events in the file, seq " + unlinkedFrom + " to " + unlinkedTo + ", come before the signed"
                + " head the chain is verified from (" + headName(chain, head) + ") and do not link up to it, so"
                + " nothing vouches for them");
      }
    }
  }

  /**
   * The signed loss record covering {@code to}, when every number from {@code from} to {@code to}
   * is covered by one; empty when some number is missing without one.
   */
  private Optional<Checkpoint.Lost> lostThrough(String chain, long from, long to) {
    List<Checkpoint.Lost> ranges = losses.getOrDefault(chain, List.of());
    long cursor = from;
    Checkpoint.Lost covering = null;
    while (cursor <= to) {
      covering = null;
      for (Checkpoint.Lost range : ranges) {
        if (range.covers(cursor)) {
          covering = range;
          break;
        }
      }
      if (covering == null) {
        return Optional.empty();
      }
      cursor = covering.toSeq() + 1;
    }
    return Optional.ofNullable(covering);
  }

  /** The first number from {@code from} to {@code to} that no signed loss record covers. */
  private long firstUncovered(String chain, long from, long to) {
    long cursor = from;
    while (cursor <= to) {
      long at = cursor;
      Optional<Checkpoint.Lost> covering = losses.getOrDefault(chain, List.of()).stream()
          .filter(range -> range.covers(at)).findFirst();
      if (covering.isEmpty()) {
        return cursor;
      }
      cursor = covering.get().toSeq() + 1;
    }
    return to + 1;
  }

  /** The signed head a chain's verification starts after, in words. */
  private String headName(String chain, Start start) {
    if (start.afterSeq() == 0) {
      return "seq 1, the start of the chain";
    }
    Checkpoint purge = purges.get(chain);
    return purge != null && purge.seq() == start.afterSeq() ? "the signed purge checkpoint at seq " + start.afterSeq()
        : "its own newest signed checkpoint at or before the start, at seq " + start.afterSeq();
  }

  /** Where a chain's verification began, and why there: what a missing start is measured against. */
  private String startNote(String chain, Start start) {
    if (start.afterSeq() == 0) {
      return window.startMillis() == null
          ? " (a chain must begin at seq 1, or right after a signed purge checkpoint)"
          : " (no signed checkpoint at or before the start, " + java.time.Instant.ofEpochMilli(window.startMillis())
              + ", is this chain's own, so it must begin at seq 1)";
    }
    Checkpoint purge = purges.get(chain);
    if (purge != null && purge.seq() == start.afterSeq()) {
      return " (a signed purge checkpoint removed the chain up to seq " + start.afterSeq() + ")";
    }
    return " (the chain's own newest signed checkpoint at or before the start, " + java.time.Instant.ofEpochMilli(
        window.startMillis()) + ", names seq " + start.afterSeq() + ", so the chain must go on from seq "
        + (start.afterSeq() + 1) + ")";
  }

  /** The seq at which this event's stored hash fits its content, near where it is now; 0 if none. */
  private static long homeOf(ChainedEvent e) {
    for (int d = 1; d <= MOVE_SEARCH; d++) {
      for (long candidate : new long[] {e.seq() - d, e.seq() + d}) {
        if (candidate > 0 && Hashes.of(e.atSeq(candidate)).equals(e.hash())) {
          return candidate;
        }
      }
    }
    return 0;
  }

  private void found(String chain, Problem problem, long seq, String detail) {
    List<Found> list = problems.computeIfAbsent(chain, k -> new ArrayList<>());
    if (list.size() < MAX_PROBLEMS_KEPT) {
      list.add(new Found(problem, seq, detail));
    }
  }

  /** The report; chains a checkpoint named but {@link #chain} never saw count as missing. */
  public TrailReport finish() {
    finishCheckpoints();
    for (String chain : chains) {
      if (!eventCounts.containsKey(chain)) {
        chain(chain, java.util.Collections.emptyIterator());
      }
    }
    List<ChainReport> reports = new ArrayList<>();
    boolean ok = true;
    for (String chain : chains) {
      long[] counts = eventCounts.getOrDefault(chain, new long[3]);
      Long named = lastNamed.get(chain);
      OptionalLong lastCheckpoint = named == null ? OptionalLong.empty() : OptionalLong.of(named);
      List<Found> list = problems.getOrDefault(chain, List.of());
      if (list.isEmpty()) {
        reports.add(new ChainReport(chain, counts[0], counts[1], Optional.empty(), 0, "", counts[2], lastCheckpoint));
        continue;
      }
      ok = false;
      Found first = list.stream().min(Comparator.comparingLong(Found::seq)).orElseThrow();
      String more = list.size() > 1 ? " (and " + (list.size() - 1) + (list.size() == MAX_PROBLEMS_KEPT ? "+" : "")
          + " more problems)" : "";
      reports.add(new ChainReport(chain, counts[0], counts[1], Optional.of(first.problem()), first.seq(),
          first.detail() + more, counts[2], lastCheckpoint));
    }
    reports.sort(Comparator.comparing(ChainReport::chain));
    long events = eventsVerified;
    if (unchained > 0) {
      ok = false;
      events += unchained;
      reports.add(0, new ChainReport("", unchained, 0, Optional.of(Problem.UNLINKED_EVENT), 0, unchained
          + " events name no chain, so nothing links them to a signed head (an export never holds any: events from"
          + " before chaining are not exported)", 0, OptionalLong.empty()));
    }
    return new TrailReport(ok, events, checkpointsVerified, unanchored, reports);
  }
}
