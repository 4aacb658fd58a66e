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
      List<Checkpoint.Head> heads = new ArrayList<>();
      events.forEach((other, list) -> {
        if (!other.equals(chain)) {
          heads.add(new Checkpoint.Head(other, head(other).seq(), head(other).hash()));
        }
      });
      Checkpoint c = new Checkpoint(Checkpoint.Kind.PERIODIC, chain, head(chain).seq(), head(chain).hash(), time,
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
    assertTrue(earlier.ok(), "events before the anchor are not needed, and not counted: " + earlier);
    assertEquals(20, earlier.eventsVerified());
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
}
