package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Resume tokens stay small and keep working however many server runs wrote the trail: after
 * hundreds of chains with long pod-style instance ids, a stream resumed from any of its tokens
 * delivers exactly the rest, nothing twice, nothing skipped, and an event that lands late in a
 * chain still open is delivered after resuming.
 */
class StreamResumeTest {
  private static final int RUNS = 300;
  private static final int EVENTS_PER_RUN = 5;
  private static final String USER = "seeded-user";
  private static final StreamAuditRequest SEEDED = StreamAuditRequest.newBuilder().setUsername(USER).build();

  private static final Comparator<AuditEvent> STREAM_ORDER = Comparator.comparing(AuditEvent::time)
      .thenComparing(AuditEvent::chain).thenComparingLong(AuditEvent::seq);

  /** A pod-style instance id as InstanceIds makes them in Kubernetes: host name plus a random suffix. */
  private static String podInstance(Random random, int run) {
    String pod = "auth-service-prod-eu-west-1-deployment-6d8f7b9c54-" + Integer.toString(36 * 36 * 36 + run, 36);
    return pod + ".auth-service-headless.identity-platform.svc.cluster.local-"
        + String.format("%06x", random.nextInt(1 << 24));
  }

  private static List<StreamAuditResponse> stream(TestServer server, String token, StreamAuditRequest request) {
    List<StreamAuditResponse> out = new ArrayList<>();
    TestServer.withBearer(server.auth(), token).streamAudit(request).forEachRemaining(out::add);
    return out;
  }

  /** Equal lists, or a failure that says what was repeated, missing or out of order. */
  private static void assertSameSequence(List<String> expected, List<String> actual, String what) {
    if (expected.equals(actual)) {
      return;
    }
    long repeated = actual.size() - actual.stream().distinct().count();
    long missing = expected.stream().filter(id -> !actual.contains(id)).count();
    long extra = actual.stream().filter(id -> !expected.contains(id)).count();
    int first = 0;
    while (first < Math.min(expected.size(), actual.size()) && expected.get(first).equals(actual.get(first))) {
      first++;
    }
    throw new AssertionError(what + ": expected " + expected.size() + " events, got " + actual.size() + "; "
        + repeated + " repeated, " + missing + " missing, " + extra + " not expected; first difference at " + first);
  }

  private static List<String> ids(List<StreamAuditResponse> responses) {
    return responses.stream().map(r -> r.getEvent().getId()).toList();
  }

  @Test
  void afterHundredsOfRunsEveryTokenIsSmallAndResumesExactly() {
    try (TestServer server = TestServer.start(); SeededTrail seeded = new SeededTrail(server)) {
      Random random = new Random(7);
      Instant now = Instant.now();
      Instant base = now.minus(Duration.ofHours(20));
      List<AuditEvent> written = new ArrayList<>();
      for (int i = 0; i < RUNS; i++) {
        // a run every 3 minutes, each up for 4: instances overlap, as in a rolling deployment
        Instant started = base.plus(Duration.ofMinutes(3L * i));
        SeededTrail.Run run = seeded.run(podInstance(random, i), started);
        List<AuditEvent> events = new ArrayList<>();
        for (int e = 0; e < EVENTS_PER_RUN; e++) {
          events.add(run.event(AuditEventType.LOGIN, USER, started.plusSeconds(10 + 45L * e + random.nextInt(5))));
        }
        written.addAll(run.writeAll(events));
        if (i % 5 != 4) {  // one run in five crashed: no shutdown checkpoint
          run.shutdown(started.plus(Duration.ofMinutes(4)));
        }
      }
      // a run that crashed 50 minutes ago, with events still in its spool that land later, and a
      // run still going, whose events carry the stream well past the spooled ones' time
      SeededTrail.Run crashed = seeded.run(podInstance(random, RUNS), now.minus(Duration.ofMinutes(50)));
      written.addAll(crashed.writeAll(List.of(
          crashed.event(AuditEventType.LOGIN, USER, now.minus(Duration.ofMinutes(49))),
          crashed.event(AuditEventType.LOGIN, USER, now.minus(Duration.ofMinutes(46))))));
      List<AuditEvent> spooled = crashed.sealOnly(List.of(
          crashed.event(AuditEventType.TOKEN_ISSUE, USER, now.minus(Duration.ofMinutes(45))),
          crashed.event(AuditEventType.LOGIN, USER, now.minus(Duration.ofMinutes(44)))));
      SeededTrail.Run live = seeded.run(podInstance(random, RUNS + 1), now.minus(Duration.ofMinutes(40)));
      for (int minutesAgo : new int[] {30, 10, 1}) {
        written.add(live.write(AuditEventType.LOGIN, USER, now.minus(Duration.ofMinutes(minutesAgo))));
      }

      String token = server.adminToken();
      List<String> expected = written.stream().sorted(STREAM_ORDER).map(AuditEvent::id).toList();
      List<StreamAuditResponse> all = stream(server, token, SEEDED);
      assertSameSequence(expected, ids(all), "the whole stream");
      int longest = all.stream().mapToInt(r -> r.getResumeToken().length()).max().orElseThrow();
      assertTrue(longest <= 2048, "every token fits the 2 KiB bound: the longest is " + longest);

      TreeSet<Integer> resumeAt = new TreeSet<>(List.of(0, 1, 2, all.size() / 2, all.size() - 2, all.size() - 1));
      for (int i = 0; i < all.size(); i += all.size() / 10) {
        resumeAt.add(i);
      }
      for (int i : resumeAt) {
        List<String> rest = ids(stream(server, token,
            SEEDED.toBuilder().setResumeToken(all.get(i).getResumeToken()).build()));
        assertSameSequence(expected.subList(i + 1, expected.size()), rest, "resumed after event " + i);
      }

      // After the last token was issued: the crashed run's spool is replayed (by its next start),
      // timed well before the last event streamed; and a new instance starts whose clock is two
      // minutes behind, so its first events are timed before the last event streamed as well.
      crashed.land(spooled);
      SeededTrail.Run skewed = seeded.run(podInstance(random, RUNS + 2), now.minus(Duration.ofMinutes(4)));
      List<AuditEvent> behind = skewed.writeAll(List.of(
          skewed.event(AuditEventType.LOGIN, USER, now.minus(Duration.ofMinutes(3))),
          skewed.event(AuditEventType.LOGIN, USER, now.minus(Duration.ofMinutes(2)))));
      List<AuditEvent> lateOnes = new ArrayList<>(spooled);
      lateOnes.addAll(behind);
      List<String> late = ids(stream(server, token,
          SEEDED.toBuilder().setResumeToken(all.get(all.size() - 1).getResumeToken()).build()));
      assertSameSequence(lateOnes.stream().sorted(STREAM_ORDER).map(AuditEvent::id).toList(), late,
          "the late events after the last token");

      assertTrue(TestServer.withBearer(server.auth(), token).verifyAudit(VerifyAuditRequest.getDefaultInstance())
          .getOk(), "the seeded runs are real, verifiable chains");
    }
  }

  @Test
  void aResumeTokenOfTheFirstKindStillResumes() {
    try (TestServer server = TestServer.start(); SeededTrail seeded = new SeededTrail(server)) {
      Instant base = Instant.now().minus(Duration.ofHours(1));
      List<AuditEvent> written = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        SeededTrail.Run run = seeded.run("pod-" + r, base.plusSeconds(r));
        for (int e = 0; e < 4; e++) {
          written.add(run.write(AuditEventType.LOGIN, USER, base.plusSeconds(10L * e + 3L * r)));
        }
      }
      String token = server.adminToken();
      List<String> expected = written.stream().sorted(STREAM_ORDER).map(AuditEvent::id).toList();
      assertSameSequence(expected, ids(stream(server, token, SEEDED)), "the whole stream");

      // what a server before bounded tokens issued after the 6th event: "seq:chain" per chain
      List<AuditEvent> streamed = written.stream().sorted(STREAM_ORDER).limit(6).toList();
      java.util.Map<String, Long> positions = new java.util.TreeMap<>();
      streamed.forEach(e -> positions.merge(e.chain(), e.seq(), Math::max));
      String canonical = new dev.authservice.server.audit.read.AuditFilter(java.util.Set.of(), java.util.Optional.of(USER),
          java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(),
          java.util.Optional.empty()).canonical() + "|follow=false";
      String firstKind = seeded.pageTokens().encode("auth.v1.AuthService/StreamAudit", canonical,
          positions.entrySet().stream().map(p -> p.getValue() + ":" + p.getKey()).toList());
      assertSameSequence(expected.subList(6, expected.size()),
          ids(stream(server, token, SEEDED.toBuilder().setResumeToken(firstKind).build())), "resumed");
    }
  }
}
