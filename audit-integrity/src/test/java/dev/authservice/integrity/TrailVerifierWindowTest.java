package dev.authservice.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Windowed verification as an export is verified: the attacker edits the file (the unsigned
 * start, the events, which checkpoints it carries) and nothing but signed heads may be trusted.
 */
class TrailVerifierWindowTest {
  private static final String A = "auth-a:1000";
  private static final String B = "auth-b:20000";

  /** A trail built like the server builds one: hash-chained events, linked signed checkpoints. */
  private static final class Trail {
    final KeyPair keys;
    final Map<String, List<ChainedEvent>> events = new TreeMap<>();
    final Map<String, String> lastCheckpointHash = new HashMap<>();

    Trail() throws Exception {
      keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    CheckpointSignatures signatures() {
      return CheckpointSignatures.of(Map.of("k1", keys.getPublic()));
    }

    void append(String chain, long time) {
      List<ChainedEvent> list = events.computeIfAbsent(chain, k -> new ArrayList<>());
      long seq = list.size() + 1;
      String prev = list.isEmpty() ? Hashes.ZERO : list.get(list.size() - 1).hash();
      ChainedEvent unsealed = new ChainedEvent("e-" + chain + "-" + seq, time, "AUDIT_EVENT_TYPE_LOGIN",
          "AUDIT_OUTCOME_SUCCESS", "alice", "", "", "127.0.0.1", "test", "auth.v1.AuthService/Login", "", "i", "",
          "", 1, time, time, Optional.empty(), chain, seq, prev, "");
      list.add(new ChainedEvent(unsealed.id(), time, unsealed.type(), unsealed.outcome(), unsealed.username(), "", "",
          unsealed.clientIp(), unsealed.userAgent(), unsealed.rpcMethod(), "", "i", "", "", 1, time, time,
          Optional.empty(), chain, seq, prev, Hashes.of(unsealed)));
    }

    ChainedEvent head(String chain) {
      List<ChainedEvent> list = events.get(chain);
      return list.get(list.size() - 1);
    }

    Checkpoint checkpoint(String chain, long time) {
      return checkpoint(chain, time, Checkpoint.Kind.PERIODIC);
    }

    Checkpoint checkpoint(String chain, long time, Checkpoint.Kind kind) {
      List<Checkpoint.Head> heads = new ArrayList<>();
      events.forEach((other, list) -> {
        if (!other.equals(chain)) {
          heads.add(new Checkpoint.Head(other, head(other).seq(), head(other).hash()));
        }
      });
      Checkpoint c = new Checkpoint(kind, chain, head(chain).seq(), head(chain).hash(), time,
          heads, lastCheckpointHash.getOrDefault(chain, Hashes.ZERO), "");
      lastCheckpointHash.put(chain, c.checkpointHash());
      return c.withSignature(CheckpointSignatures.sign(c, keys.getPrivate(), "k1"));
    }

    Checkpoint purge(String chain, long throughSeq, String prevCheckpointHash, long time) {
      ChainedEvent last = events.get(chain).get((int) throughSeq - 1);
      Checkpoint c = new Checkpoint(Checkpoint.Kind.PURGE, chain, throughSeq, last.hash(), time, List.of(),
          prevCheckpointHash, "");
      return c.withSignature(CheckpointSignatures.sign(c, keys.getPrivate(), "k1"));
    }

    /** The events of each chain from {@code fromSeq} on, as a file would hold them. */
    Map<String, List<ChainedEvent>> from(Map<String, Long> fromSeq) {
      Map<String, List<ChainedEvent>> out = new LinkedHashMap<>();
      events.forEach((chain, list) -> out.put(chain, list.stream()
          .filter(e -> e.seq() >= fromSeq.getOrDefault(chain, 1L)).toList()));
      return out;
    }

    TrailReport verify(TrailVerifier.Window window, List<Checkpoint> carried, Map<String, List<ChainedEvent>> held) {
      TrailVerifier verifier = new TrailVerifier(signatures(), window);
      carried.forEach(verifier::checkpoint);
      Map<String, List<ChainedEvent>> nonEmpty = new TreeMap<>();
      held.forEach((chain, list) -> {
        if (!list.isEmpty()) {
          nonEmpty.put(chain, list.stream().sorted(Comparator.comparingLong(ChainedEvent::seq)).toList());
        }
      });
      for (String chain : verifier.chainsToVerify(nonEmpty.keySet())) {
        verifier.chain(chain, nonEmpty.getOrDefault(chain, List.of()).iterator());
      }
      return verifier.finish();
    }
  }

  private static ChainReport report(TrailReport report, String chain) {
    return report.chains().stream().filter(c -> c.chain().equals(chain)).findFirst().orElseThrow(
        () -> new AssertionError(chain + " is not reported: " + report));
  }

  private static TrailVerifier.Window from(long startMillis) {
    return new TrailVerifier.Window(startMillis, null);
  }

  /** Chain A: 30 events at 1 s, 2 s, …; checkpoints after seq 10, 20 and 30. */
  private record OneChain(Trail trail, Checkpoint cp10, Checkpoint cp20, Checkpoint cp30) {}

  private static OneChain oneChain() throws Exception {
    Trail trail = new Trail();
    Checkpoint[] cps = new Checkpoint[3];
    for (int seq = 1; seq <= 30; seq++) {
      trail.append(A, seq * 1000L);
      if (seq % 10 == 0) {
        cps[seq / 10 - 1] = trail.checkpoint(A, seq * 1000L + 500);
      }
    }
    return new OneChain(trail, cps[0], cps[1], cps[2]);
  }

  @Test
  void aWindowVerifiesFromTheNewestSignedCheckpointAtOrBeforeItsStart() throws Exception {
    OneChain t = oneChain();
    TrailReport exact = t.trail().verify(from(15_000), List.of(t.cp10(), t.cp20(), t.cp30()),
        t.trail().from(Map.of(A, 11L)));
    assertTrue(exact.ok(), exact.toString());
    assertEquals(20, exact.eventsVerified());
    TrailReport earlier = t.trail().verify(from(15_000), List.of(t.cp10(), t.cp20(), t.cp30()),
        t.trail().from(Map.of(A, 4L)));
    assertTrue(earlier.ok(), "events before the anchor are not needed, but link up to it: " + earlier);
    assertEquals(27, earlier.eventsVerified(), "and are checked backwards from its signed hash");
  }

  @Test
  void cuttingTheFirstEventsAndClaimingAnEarlyStartShowsThemMissing() throws Exception {
    OneChain t = oneChain();
    List<Checkpoint> all = List.of(t.cp10(), t.cp20(), t.cp30());
    for (TrailVerifier.Window window : List.of(from(0), TrailVerifier.Window.ALL)) {
      TrailReport report = t.trail().verify(window, all, t.trail().from(Map.of(A, 6L)));
      assertFalse(report.ok(), window + ": " + report);
      ChainReport a = report(report, A);
      assertEquals(Optional.of(Problem.MISSING_EVENT), a.problem(), a.toString());
      assertEquals(1, a.firstBadSeq());
      assertTrue(a.detail().startsWith("seq 1 to 5 are missing"), a.detail());
      assertTrue(a.detail().contains(window.startMillis() == null ? "must begin at seq 1"
          : "no signed checkpoint at or before the start"), a.detail());
    }
    // cut exactly up to a checkpoint: still missing, unless the claimed start is after that checkpoint
    TrailReport atCheckpoint = t.trail().verify(from(0), all, t.trail().from(Map.of(A, 11L)));
    assertEquals(Optional.of(Problem.MISSING_EVENT), report(atCheckpoint, A).problem());
    TrailReport laterStart = t.trail().verify(from(10_500), all, t.trail().from(Map.of(A, 11L)));
    assertTrue(laterStart.ok(), "a later start narrows what is verified: " + laterStart);
  }

  @Test
  void droppingTheAnchoringCheckpointLeavesTheFirstEventUnlinked() throws Exception {
    OneChain t = oneChain();
    TrailReport report = t.trail().verify(from(15_000), List.of(t.cp20(), t.cp30()), t.trail().from(Map.of(A, 11L)));
    assertFalse(report.ok(), report.toString());
    ChainReport a = report(report, A);
    assertEquals(Optional.of(Problem.MISSING_EVENT), a.problem(), a.toString());
    assertTrue(a.detail().startsWith("seq 1 to 10 are missing (no signed checkpoint at or before the start"),
        a.detail());
    assertTrue(a.detail().contains("1 more problem"), "the broken checkpoint link too: " + a.detail());
  }

  @Test
  void swappingInAnOlderCheckpointIsSeen() throws Exception {
    Trail trail = new Trail();
    Checkpoint cp5 = null;
    Checkpoint cp10 = null;
    List<Checkpoint> later = new ArrayList<>();
    for (int seq = 1; seq <= 30; seq++) {
      trail.append(A, seq * 1000L);
      if (seq == 5) {
        cp5 = trail.checkpoint(A, 5_500);
      } else if (seq == 10) {
        cp10 = trail.checkpoint(A, 10_500);
      } else if (seq % 10 == 0) {
        later.add(trail.checkpoint(A, seq * 1000L + 500));
      }
    }
    List<Checkpoint> honest = new ArrayList<>(later);
    honest.add(cp10);
    assertTrue(trail.verify(from(15_000), honest, trail.from(Map.of(A, 11L))).ok());
    List<Checkpoint> swapped = new ArrayList<>(later);
    swapped.add(cp5);
    TrailReport report = trail.verify(from(15_000), swapped, trail.from(Map.of(A, 11L)));
    ChainReport a = report(report, A);
    assertEquals(Optional.of(Problem.MISSING_EVENT), a.problem(), a.toString());
    assertEquals(6, a.firstBadSeq());
    assertTrue(a.detail().contains("names seq 5"), a.detail());
  }

  /** A: 10 events, checkpointed, then its instance stopped; B's checkpoints name A's head. */
  private record TwoChains(Trail trail, Checkpoint cpA, Checkpoint cpB1, Checkpoint cpB2) {}

  private static TwoChains twoChains() throws Exception {
    Trail trail = new Trail();
    for (int seq = 1; seq <= 10; seq++) {
      trail.append(A, seq * 1000L);
    }
    Checkpoint cpA = trail.checkpoint(A, 10_500);
    for (int seq = 1; seq <= 10; seq++) {
      trail.append(B, 20_000 + seq * 1000L);
    }
    Checkpoint cpB1 = trail.checkpoint(B, 30_500);
    for (int seq = 11; seq <= 20; seq++) {
      trail.append(B, 20_000 + seq * 1000L);
    }
    Checkpoint cpB2 = trail.checkpoint(B, 40_500);
    return new TwoChains(trail, cpA, cpB1, cpB2);
  }

  @Test
  void aDeletedChainIsMissingUnlessSignedCheckpointsEndItBeforeTheWindow() throws Exception {
    TwoChains t = twoChains();
    List<Checkpoint> all = List.of(t.cpA(), t.cpB1(), t.cpB2());
    Map<String, List<ChainedEvent>> withoutA = new LinkedHashMap<>(t.trail().from(Map.of()));
    withoutA.remove(A);
    for (TrailVerifier.Window window : List.of(from(0), TrailVerifier.Window.ALL)) {
      TrailReport report = t.trail().verify(window, all, withoutA);
      ChainReport a = report(report, A);
      assertEquals(Optional.of(Problem.CHAIN_MISSING), a.problem(), window + ": " + a);
      assertEquals(1, a.firstBadSeq());
    }
    // from 35 s on, signed checkpoints at or before the start say A ended at seq 10: nothing of A is due
    TrailReport window = t.trail().verify(from(35_000), List.of(t.cpA(), t.cpB1(), t.cpB2()),
        t.trail().from(Map.of(A, 11L, B, 11L)));
    assertTrue(window.ok(), window.toString());
    // but only with those checkpoints: without them A's head is known only from after the start
    TrailReport unanchored = t.trail().verify(from(35_000), List.of(t.cpB2()), t.trail().from(Map.of(A, 11L, B, 11L)));
    assertEquals(Optional.of(Problem.CHAIN_MISSING), report(unanchored, A).problem(), unanchored.toString());
    assertEquals(Optional.of(Problem.MISSING_EVENT), report(unanchored, B).problem(), unanchored.toString());
  }

  @Test
  void aChainNoCheckpointNamesMustBeginAtSeqOne() throws Exception {
    Trail trail = new Trail();
    for (int seq = 1; seq <= 5; seq++) {
      trail.append(A, seq * 1000L);
    }
    for (TrailVerifier.Window window : List.of(from(0), from(3_000), TrailVerifier.Window.ALL)) {
      TrailReport cut = trail.verify(window, List.of(), trail.from(Map.of(A, 3L)));
      assertEquals(Optional.of(Problem.MISSING_EVENT), report(cut, A).problem(), window + ": " + cut);
      TrailReport whole = trail.verify(window, List.of(), trail.from(Map.of()));
      assertTrue(whole.ok(), window + ": " + whole);
      assertEquals(5, whole.unanchoredEvents());
    }
  }

  @Test
  void aPurgedChainVerifiesFromItsSignedPurgeWithOrWithoutAWindow() throws Exception {
    OneChain t = oneChain();
    Checkpoint purge = t.trail().purge(A, 10, t.cp10().checkpointHash(), 50_000);
    List<Checkpoint> afterPurge = List.of(purge, t.cp20(), t.cp30());
    for (TrailVerifier.Window window : List.of(from(15_000), from(0), TrailVerifier.Window.ALL)) {
      TrailReport report = t.trail().verify(window, afterPurge, t.trail().from(Map.of(A, 11L)));
      assertTrue(report.ok(), window + ": " + report);
      TrailReport cut = t.trail().verify(window, afterPurge, t.trail().from(Map.of(A, 13L)));
      assertTrue(report(cut, A).detail().startsWith("seq 11 to 12 are missing (a signed purge checkpoint"),
          report(cut, A).detail());
    }
  }

  /** The event with another username: its stored hash kept (a plain edit) or recomputed (a careful one). */
  private static ChainedEvent withUsername(ChainedEvent e, String username, boolean rehash) {
    ChainedEvent edited = new ChainedEvent(e.id(), e.time(), e.type(), e.outcome(), username, e.subject(), e.tokenId(),
        e.clientIp(), e.userAgent(), e.rpcMethod(), e.reason(), e.instance(), e.actor(), e.peerIdentity(), e.count(),
        e.firstTime(), e.lastTime(), e.alert(), e.chain(), e.seq(), e.prevHash(), e.hash());
    if (!rehash) {
      return edited;
    }
    return new ChainedEvent(e.id(), e.time(), e.type(), e.outcome(), username, e.subject(), e.tokenId(),
        e.clientIp(), e.userAgent(), e.rpcMethod(), e.reason(), e.instance(), e.actor(), e.peerIdentity(), e.count(),
        e.firstTime(), e.lastTime(), e.alert(), e.chain(), e.seq(), e.prevHash(), Hashes.of(edited));
  }

  /** The file's events with one of them replaced. */
  private static Map<String, List<ChainedEvent>> replacing(Map<String, List<ChainedEvent>> held, ChainedEvent edited) {
    Map<String, List<ChainedEvent>> out = new LinkedHashMap<>();
    held.forEach((chain, list) -> out.put(chain, list.stream()
        .map(e -> e.chain().equals(edited.chain()) && e.seq() == edited.seq() ? edited : e).toList()));
    return out;
  }

  private static ChainedEvent eventOf(Map<String, List<ChainedEvent>> held, String chain, long seq) {
    return held.get(chain).stream().filter(e -> e.seq() == seq).findFirst().orElseThrow();
  }

  /**
   * The review's case: B checkpoints at seq 5, writes on to seq 10; A's checkpoint names B's head
   * at seq 10; an export from after it starts B right after B's own checkpoint, at seq 6.
   */
  private record Multi(Trail trail, List<Checkpoint> carried, Map<String, List<ChainedEvent>> held) {}

  private static Multi multiInstanceExport() throws Exception {
    Trail trail = new Trail();
    for (int seq = 1; seq <= 5; seq++) {
      trail.append(B, seq * 1000L);
      trail.append(A, seq * 1000L + 100);
    }
    Checkpoint ownOfB = trail.checkpoint(B, 5_500);
    for (int seq = 6; seq <= 10; seq++) {
      trail.append(B, seq * 1000L);
    }
    Checkpoint namesB10 = trail.checkpoint(A, 11_500);
    for (int seq = 11; seq <= 15; seq++) {
      trail.append(B, seq * 1000L + 1000);
    }
    Checkpoint laterOfB = trail.checkpoint(B, 16_500);
    // what the server exports from 12 s: each chain after its own newest checkpoint at or before then
    return new Multi(trail, List.of(ownOfB, namesB10, laterOfB), trail.from(Map.of(A, 6L, B, 6L)));
  }

  @Test
  void anotherChainsClaimDoesNotMoveTheStartSoEveryExportedEventIsChecked() throws Exception {
    Multi m = multiInstanceExport();
    TrailReport honest = m.trail().verify(from(12_000), m.carried(), m.held());
    assertTrue(honest.ok(), honest.toString());
    assertEquals(10, report(honest, B).events(), "B's seq 6 to 15, every one of them");

    TrailReport edited = m.trail().verify(from(12_000), m.carried(),
        replacing(m.held(), withUsername(eventOf(m.held(), B, 7), "mallory", false)));
    assertFalse(edited.ok(), edited.toString());
    ChainReport b = report(edited, B);
    assertEquals(Optional.of(Problem.HASH_MISMATCH), b.problem(), b.toString());
    assertEquals(7, b.firstBadSeq(), b.toString());

    TrailReport rehashed = m.trail().verify(from(12_000), m.carried(),
        replacing(m.held(), withUsername(eventOf(m.held(), B, 7), "mallory", true)));
    assertEquals(Optional.of(Problem.HASH_MISMATCH), report(rehashed, B).problem(), rehashed.toString());
    assertEquals(7, report(rehashed, B).firstBadSeq(), "seq 8 was chained to another seq 7: " + rehashed);
  }

  @Test
  void anotherChainsClaimIsCheckedWhenTheWalkPassesIt() throws Exception {
    Multi m = multiInstanceExport();
    // B rewritten from seq 6 on, every hash recomputed: only A's claim on seq 10 can tell
    List<ChainedEvent> rewritten = new ArrayList<>();
    String prev = eventOf(m.trail().events, B, 5).hash();
    for (ChainedEvent e : m.held().get(B)) {
      ChainedEvent relinked = new ChainedEvent(e.id(), e.time(), e.type(), e.outcome(),
          e.seq() == 7 ? "mallory" : e.username(), e.subject(), e.tokenId(), e.clientIp(), e.userAgent(),
          e.rpcMethod(), e.reason(), e.instance(), e.actor(), e.peerIdentity(), e.count(), e.firstTime(),
          e.lastTime(), e.alert(), e.chain(), e.seq(), prev, "");
      relinked = new ChainedEvent(relinked.id(), relinked.time(), relinked.type(), relinked.outcome(),
          relinked.username(), relinked.subject(), relinked.tokenId(), relinked.clientIp(), relinked.userAgent(),
          relinked.rpcMethod(), relinked.reason(), relinked.instance(), relinked.actor(), relinked.peerIdentity(),
          relinked.count(), relinked.firstTime(), relinked.lastTime(), relinked.alert(), relinked.chain(),
          relinked.seq(), prev, Hashes.of(relinked));
      rewritten.add(relinked);
      prev = relinked.hash();
    }
    Map<String, List<ChainedEvent>> held = new LinkedHashMap<>(m.held());
    held.put(B, rewritten);
    // without B's later checkpoint, A's claim on seq 10 is the only one the walk passes
    TrailReport report = m.trail().verify(from(12_000), m.carried().subList(0, 2), held);
    ChainReport b = report(report, B);
    assertEquals(Optional.of(Problem.HASH_MISMATCH), b.problem(), b.toString());
    assertEquals(10, b.firstBadSeq(), b.toString());
    assertTrue(b.detail().contains("a signed checkpoint holds another hash for seq 10"), b.detail());
  }

  @Test
  void eventsBeforeTheHeadCountOnlyIfTheyLinkUpToIt() throws Exception {
    OneChain t = oneChain();
    List<Checkpoint> all = List.of(t.cp10(), t.cp20(), t.cp30());
    // an export from 15 s whose unsigned start was moved on to 25 s: seq 11 to 20 lie before the head
    Map<String, List<ChainedEvent>> held = t.trail().from(Map.of(A, 11L));
    TrailReport moved = t.trail().verify(from(25_000), all, held);
    assertTrue(moved.ok(), "they link up to the checkpoint at seq 20: " + moved);
    assertEquals(20, moved.eventsVerified());

    TrailReport edited = t.trail().verify(from(25_000), all,
        replacing(held, withUsername(eventOf(held, A, 13), "mallory", false)));
    ChainReport a = report(edited, A);
    assertFalse(edited.ok(), edited.toString());
    // the altered event, and the two before it, which can no longer be linked through it
    assertEquals(Optional.of(Problem.UNLINKED_EVENT), a.problem(), a.toString());
    assertTrue(a.detail().startsWith("2 events in the file, seq 11 to 12,") && a.detail().endsWith("(and 1 more problems)"),
        a.detail());
    TrailReport editedAtTheStart = t.trail().verify(from(25_000), all,
        replacing(held, withUsername(eventOf(held, A, 11), "mallory", false)));
    assertEquals(Optional.of(Problem.HASH_MISMATCH), report(editedAtTheStart, A).problem(), editedAtTheStart.toString());
    assertEquals(11, report(editedAtTheStart, A).firstBadSeq());

    TrailReport rehashed = t.trail().verify(from(25_000), all,
        replacing(held, withUsername(eventOf(held, A, 13), "mallory", true)));
    a = report(rehashed, A);
    assertEquals(Optional.of(Problem.UNLINKED_EVENT), a.problem(), a.toString());
    assertEquals(11, a.firstBadSeq(), a.toString());
    assertTrue(a.detail().startsWith("3 events in the file, seq 11 to 13, come before the signed head"), a.detail());

    // an event made up before the head, consistent in itself: nothing links it to a signed hash
    Map<String, List<ChainedEvent>> withForged = new LinkedHashMap<>(held);
    List<ChainedEvent> forged = new ArrayList<>(List.of(withUsername(eventOf(t.trail().events, A, 9), "x", true)));
    forged.addAll(held.get(A));
    withForged.put(A, forged);
    TrailReport before = t.trail().verify(from(15_000), all, withForged);
    assertEquals(Optional.of(Problem.UNLINKED_EVENT), report(before, A).problem(), before.toString());
    assertEquals(9, report(before, A).firstBadSeq(), before.toString());
  }

  @Test
  void eventsThatNameNoChainAreReportedNotSkipped() throws Exception {
    OneChain t = oneChain();
    TrailVerifier verifier = new TrailVerifier(t.trail().signatures(), TrailVerifier.Window.ALL);
    List.of(t.cp10(), t.cp20(), t.cp30()).forEach(verifier::checkpoint);
    verifier.chain(A, t.trail().events.get(A).iterator());
    verifier.unchained(2);
    TrailReport report = verifier.finish();
    assertFalse(report.ok(), report.toString());
    ChainReport none = report(report, "");
    assertEquals(Optional.of(Problem.UNLINKED_EVENT), none.problem(), none.toString());
    assertEquals(2, none.events());
  }

  private static final long MINUTES = 60_000;

  @Test
  void aMadeUpChainOlderThanACheckpointThatDoesNotNameItIsUnvouched() throws Exception {
    Trail trail = new Trail();
    for (int seq = 1; seq <= 5; seq++) {
      trail.append(A, seq * 1000L);
    }
    Checkpoint cpA = trail.checkpoint(A, 10 * MINUTES);
    String made = "made-up:1";
    for (int seq = 1; seq <= 3; seq++) {
      trail.append(made, 2 * MINUTES + seq * 1000L);
    }
    for (TrailVerifier.Window window : List.of(TrailVerifier.Window.ALL, from(0))) {
      TrailReport report = trail.verify(window, List.of(cpA), trail.from(Map.of()));
      assertFalse(report.ok(), window + ": " + report);
      ChainReport forged = report(report, made);
      assertEquals(Optional.of(Problem.UNVOUCHED_CHAIN), forged.problem(), forged.toString());
      assertEquals(1, forged.firstBadSeq());
      assertTrue(forged.detail().startsWith("3 events from seq 1 on are older than the signed checkpoint of " + A),
          forged.detail());
      assertEquals(OptionalLong.empty(), forged.lastCheckpointMillis());
      assertEquals(OptionalLong.of(10 * MINUTES), report(report, A).lastCheckpointMillis());
    }
  }

  @Test
  void aGenuinelyNewChainIsOnlyUnanchored() throws Exception {
    Trail trail = new Trail();
    trail.append(A, 1000);
    Checkpoint cpA = trail.checkpoint(A, 10 * MINUTES);
    String fresh = "new:1";
    // timed within the margin before the newest checkpoint (an event in flight when it was signed), or after it
    trail.append(fresh, 10 * MINUTES - TrailVerifier.UNVOUCHED_MARGIN_MILLIS + 1);
    trail.append(fresh, 11 * MINUTES);
    TrailReport report = trail.verify(TrailVerifier.Window.ALL, List.of(cpA), trail.from(Map.of()));
    assertTrue(report.ok(), report.toString());
    assertEquals(2, report(report, fresh).unanchoredEvents());
  }

  @Test
  void eventsAfterAChainsShutdownCheckpointAreUnvouchedEvenIfALaterCheckpointNamesThem() throws Exception {
    Trail trail = new Trail();
    for (int seq = 1; seq <= 10; seq++) {
      trail.append(A, seq * 1000L);
    }
    Checkpoint shutdown = trail.checkpoint(A, 10_500, Checkpoint.Kind.SHUTDOWN);
    trail.append(B, 20_000);
    Checkpoint cpB = trail.checkpoint(B, 20_500);
    trail.append(A, 30_000);
    trail.append(A, 31_000);
    // the store's new head of A, as a checkpoint signed after the append names it
    trail.append(B, 40_000);
    Checkpoint namesForged = trail.checkpoint(B, 40_500);
    for (List<Checkpoint> carried : List.of(List.of(shutdown, cpB), List.of(shutdown, cpB, namesForged))) {
      TrailReport report = trail.verify(TrailVerifier.Window.ALL, carried, trail.from(Map.of()));
      ChainReport a = report(report, A);
      assertEquals(Optional.of(Problem.UNVOUCHED_CHAIN), a.problem(), a.toString());
      assertEquals(11, a.firstBadSeq());
      assertTrue(a.detail().startsWith("2 events from seq 11 on follow the chain's signed shutdown checkpoint at seq 10"),
          a.detail());
    }
    assertEquals(OptionalLong.of(20_500), report(trail.verify(TrailVerifier.Window.ALL, List.of(shutdown, cpB),
        trail.from(Map.of())), A).lastCheckpointMillis(), "B's checkpoint named A's head after A's own");
  }

  @Test
  void eventsAfterTheLastCheckpointOfAChainThatStoppedWithoutOneAreOnlyUnanchored() throws Exception {
    // the limit: a crashed run's spool replayed later looks the same as a forged tail
    Trail trail = new Trail();
    for (int seq = 1; seq <= 10; seq++) {
      trail.append(A, seq * 1000L);
    }
    Checkpoint cpA = trail.checkpoint(A, 10_500);
    trail.append(B, 20 * MINUTES);
    Checkpoint cpB = trail.checkpoint(B, 20 * MINUTES + 500);
    trail.append(A, 11_000);
    TrailReport report = trail.verify(TrailVerifier.Window.ALL, List.of(cpA, cpB), trail.from(Map.of()));
    assertTrue(report.ok(), report.toString());
    assertEquals(1, report(report, A).unanchoredEvents());
  }
}
