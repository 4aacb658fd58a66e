package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.authservice.proto.auth.v1.AuditProblem;
import dev.authservice.proto.auth.v1.ChainReport;
import dev.authservice.proto.auth.v1.GetAuditKeysRequest;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import dev.authservice.server.audit.chain.AuditChains;
import dev.authservice.server.audit.AuditEventType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.junit.jupiter.api.Test;

/**
 * The trail is tamper-evident: a clean trail verifies across restarts and with two instances,
 * and each kind of tampering a store-level attacker can do is reported on the right chain with
 * the right problem and first bad seq.
 */
class AuditIntegrityTest {
  private static final Duration FAST_CHECKPOINTS = Duration.ofMillis(150);
  private static final int EVENTS = 30;


  private static VerifyAuditResponse verify(TestServer server) {
    return TestServer.withBearer(server.auth(), server.adminToken()).verifyAudit(VerifyAuditRequest.getDefaultInstance());
  }

  private static void validations(TestServer server, int n) {
    String token = server.adminToken();
    for (int i = 0; i < n; i++) {
      server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
    }
  }

  /** The one chain of events {@code first} wrote, which stopped with a shutdown checkpoint. */
  private record Trail(TestServer witness, String chain, long lastSeq) {}

  /**
   * Writes a chain with a first server, stops it gracefully, and starts a second one on the
   * same store whose checkpoints name the first chain's head: the witness the test verifies with.
   */
  private static Trail trail(TestServer first) throws InterruptedException {
    validations(first, EVENTS);
    MongoCollection<Document> events = first.database().getCollection("audit_events");
    String chain = events.find(Filters.eq("instance", first.config().instanceId())).first().getString("chain");
    first.stopServer();
    long lastSeq = events.find(Filters.eq("chain", chain)).sort(Sorts.descending("seq")).first().getLong("seq");
    TestServer witness = first.sibling(b -> b.auditCheckpointInterval(FAST_CHECKPOINTS), Clock.systemUTC());
    witness.adminToken();
    MongoCollection<Document> checkpoints = first.database().getCollection("audit_checkpoints");
    Await.until("the second instance's checkpoint names the first chain's head", 15, () ->
        checkpoints.find(Filters.and(Filters.ne("chain", chain), Filters.elemMatch("heads",
            Filters.and(Filters.eq("chain", chain), Filters.eq("seq", lastSeq))))).first() != null);
    return new Trail(witness, chain, lastSeq);
  }

  private static ChainReport report(VerifyAuditResponse response, String chain) {
    return response.getChainsList().stream().filter(c -> c.getChain().equals(chain)).findFirst()
        .orElseThrow(() -> new AssertionError("no report for chain " + chain + ": " + response));
  }

  private static void assertProblem(VerifyAuditResponse response, String chain, AuditProblem problem, long firstBadSeq) {
    assertFalse(response.getOk(), "tampering makes ok false");
    ChainReport report = report(response, chain);
    assertEquals(problem, report.getProblem(), report.getDetail());
    assertEquals(firstBadSeq, report.getFirstBadSeq(), report.getDetail());
    for (ChainReport other : response.getChainsList()) {
      if (!other.getChain().equals(chain)) {
        assertEquals(AuditProblem.AUDIT_PROBLEM_UNSPECIFIED, other.getProblem(), "other chains are fine: " + other);
      }
    }
  }

  private static TestServer start() {
    return TestServer.start(b -> b.auditCheckpointInterval(FAST_CHECKPOINTS));
  }

  @Test
  void aCleanTrailVerifiesAcrossRestartsAndWithTwoInstances() throws Exception {
    try (TestServer a = start()) {
      try (TestServer b = a.sibling(c -> c.auditCheckpointInterval(FAST_CHECKPOINTS), Clock.systemUTC())) {
        validations(a, 20);
        validations(b, 20);
        validations(a, 5);
        b.stopServer();
        a.stopServer();
        try (TestServer restarted = a.sibling(c -> c, Clock.systemUTC())) {
          validations(restarted, 5);
          VerifyAuditResponse response = verify(restarted);
          assertTrue(response.getOk(), response.toString());
          assertTrue(response.getChainsCount() >= 3, "a chain per process run: " + response.getChainsList());
          assertTrue(response.getEventsVerified() >= 50, response.toString());
          assertTrue(response.getCheckpointsVerified() >= 2, "each stopped instance signed a shutdown checkpoint");
          assertTrue(response.getUnanchoredEvents() > 0, "the running instance's newest events are not anchored yet");
          for (ChainReport chain : response.getChainsList()) {
            assertEquals(AuditProblem.AUDIT_PROBLEM_UNSPECIFIED, chain.getProblem(), chain.toString());
          }
        }
      }
    }
  }

  @Test
  void editingAnyFieldOfOneEventIsAHashMismatchAtItsSeq() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        first.database().getCollection("audit_events").updateOne(
            Filters.and(Filters.eq("chain", trail.chain()), Filters.eq("seq", 5L)), Updates.set("client_ip", "10.9.9.9"));
        assertProblem(verify(witness), trail.chain(), AuditProblem.AUDIT_PROBLEM_HASH_MISMATCH, 5);
      }
    }
  }

  @Test
  void changingAFieldsTypeIsAHashMismatchToo() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        first.database().getCollection("audit_events").updateOne(
            Filters.and(Filters.eq("chain", trail.chain()), Filters.eq("seq", 8L)), Updates.set("count", "1"));
        assertProblem(verify(witness), trail.chain(), AuditProblem.AUDIT_PROBLEM_HASH_MISMATCH, 8);
      }
    }
  }

  @Test
  void deletingOneEventIsAMissingEventAtItsSeq() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        first.database().getCollection("audit_events").deleteOne(
            Filters.and(Filters.eq("chain", trail.chain()), Filters.eq("seq", 7L)));
        assertProblem(verify(witness), trail.chain(), AuditProblem.AUDIT_PROBLEM_MISSING_EVENT, 7);
      }
    }
  }

  @Test
  void swappingTwoEventsIsOutOfOrderAtTheFirstOfThem() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        MongoCollection<Document> events = first.database().getCollection("audit_events");
        // the unique (chain, seq) index needs a detour
        events.updateOne(Filters.and(Filters.eq("chain", trail.chain()), Filters.eq("seq", 10L)), Updates.set("seq", -10L));
        events.updateOne(Filters.and(Filters.eq("chain", trail.chain()), Filters.eq("seq", 11L)), Updates.set("seq", 10L));
        events.updateOne(Filters.and(Filters.eq("chain", trail.chain()), Filters.eq("seq", -10L)), Updates.set("seq", 11L));
        assertProblem(verify(witness), trail.chain(), AuditProblem.AUDIT_PROBLEM_OUT_OF_ORDER, 10);
      }
    }
  }

  @Test
  void deletingTheLastEventsACheckpointCoveredIsATruncatedChain() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        long from = trail.lastSeq() - 3;
        first.database().getCollection("audit_events").deleteMany(
            Filters.and(Filters.eq("chain", trail.chain()), Filters.gte("seq", from)));
        assertProblem(verify(witness), trail.chain(), AuditProblem.AUDIT_PROBLEM_CHAIN_TRUNCATED, from);
      }
    }
  }

  @Test
  void deletingAWholeChainAndItsCheckpointsIsAMissingChain() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        first.database().getCollection("audit_events").deleteMany(Filters.eq("chain", trail.chain()));
        first.database().getCollection("audit_checkpoints").deleteMany(Filters.eq("chain", trail.chain()));
        first.database().getCollection("audit_chains").deleteOne(Filters.eq("_id", trail.chain()));
        assertProblem(verify(witness), trail.chain(), AuditProblem.AUDIT_PROBLEM_CHAIN_MISSING, 1);
      }
    }
  }

  @Test
  void alteringACheckpointIsABadCheckpointOnItsOwnChain() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        MongoCollection<Document> checkpoints = first.database().getCollection("audit_checkpoints");
        Document shutdown = checkpoints.find(Filters.and(Filters.eq("chain", trail.chain()),
            Filters.eq("kind", "SHUTDOWN"))).first();
        checkpoints.updateOne(Filters.eq("_id", shutdown.get("_id")), Updates.set("time", new java.util.Date(0)));
        assertProblem(verify(witness), trail.chain(), AuditProblem.AUDIT_PROBLEM_BAD_CHECKPOINT, trail.lastSeq());
      }
    }
  }

  private static VerifyAuditResponse verifyFrom(TestServer server, Instant start) {
    return TestServer.withBearer(server.auth(), server.adminToken()).verifyAudit(VerifyAuditRequest.newBuilder()
        .setStartTime(Timestamp.newBuilder().setSeconds(start.getEpochSecond()).setNanos(start.getNano())).build());
  }

  /**
   * Two instances at once: B signs no checkpoint of its own before the window (its interval is an
   * hour), A's checkpoint names B's head. A window from after that checkpoint starts B where
   * StreamAudit's export starts it (after B's own newest checkpoint at or before the start: none,
   * so seq 1), not at A's claim, so an edit before A's claim is found.
   */
  @Test
  void aWindowChecksTheEventsBeforeAnotherChainsClaimOnTheChain() throws Exception {
    try (TestServer a = start()) {
      try (TestServer b = a.sibling(c -> c.auditCheckpointInterval(Duration.ofHours(1)), Clock.systemUTC())) {
        validations(b, 10);
        MongoCollection<Document> events = a.database().getCollection("audit_events");
        String chainB = events.find(Filters.eq("instance", b.config().instanceId())).first().getString("chain");
        long headB = events.find(Filters.eq("chain", chainB)).sort(Sorts.descending("seq")).first().getLong("seq");
        validations(a, 3);
        MongoCollection<Document> checkpoints = a.database().getCollection("audit_checkpoints");
        Await.until("A's checkpoint names B's head", 15, () -> checkpoints.find(Filters.and(Filters.ne("chain", chainB),
            Filters.elemMatch("heads", Filters.and(Filters.eq("chain", chainB), Filters.eq("seq", headB))))).first()
            != null);
        Document claim = checkpoints.find(Filters.and(Filters.ne("chain", chainB), Filters.elemMatch("heads",
            Filters.and(Filters.eq("chain", chainB), Filters.eq("seq", headB))))).first();
        Instant start = claim.getDate("time").toInstant().plusMillis(1);
        assertTrue(checkpoints.find(Filters.eq("chain", chainB)).first() == null, "B has no checkpoint of its own");
        VerifyAuditResponse clean = verifyFrom(a, start);
        assertTrue(clean.getOk(), clean.toString());
        assertTrue(report(clean, chainB).getEvents() >= headB, "B from seq 1: " + report(clean, chainB));

        events.updateOne(Filters.and(Filters.eq("chain", chainB), Filters.eq("seq", 3L)),
            Updates.set("username", "mallory"));
        assertProblem(verifyFrom(a, start), chainB, AuditProblem.AUDIT_PROBLEM_HASH_MISMATCH, 3);
      }
    }
  }

  /**
   * The chains of earlier runs that stopped with a signed shutdown checkpoint are named once by a
   * run, not in every checkpoint: each server run registers a chain, and naming every registered
   * chain's head in every checkpoint (every interval, on every instance) grew each checkpoint with
   * every restart ever made. A run that crashed is still named in every one, so its tail stays
   * vouched for by the newest checkpoints, and cutting it is found.
   */
  @Test
  void aStoppedChainIsNamedOnceAndACrashedOneInEveryCheckpoint() throws Exception {
    try (TestServer server = start()) {
      validations(server, 3);
      MongoCollection<Document> events = server.database().getCollection("audit_events");
      MongoCollection<Document> checkpoints = server.database().getCollection("audit_checkpoints");
      String own = events.find(Filters.eq("instance", server.config().instanceId())).first().getString("chain");
      List<String> stopped = new ArrayList<>();
      String crashed;
      try (SeededTrail seeder = new SeededTrail(server)) {
        for (int i = 0; i < 4; i++) {
          SeededTrail.Run run = seeder.run("auth-stopped-" + i, Instant.now());
          run.write(AuditEventType.LOGIN, "stopped-" + i, Instant.now());
          run.write(AuditEventType.LOGIN, "stopped-" + i, Instant.now());
          run.shutdown(Instant.now());
          stopped.add(run.chain());
        }
        SeededTrail.Run run = seeder.run("auth-crashed", Instant.now());
        run.write(AuditEventType.LOGIN, "crashed", Instant.now());
        run.write(AuditEventType.LOGIN, "crashed", Instant.now());
        crashed = run.chain();
      }
      List<String> seeded = new ArrayList<>(stopped);
      seeded.add(crashed);
      validations(server, 1);
      Await.until("a checkpoint of the server names the seeded chains", 15, () -> seeded.stream().allMatch(chain ->
          checkpoints.find(Filters.and(Filters.eq("chain", own), Filters.elemMatch("heads",
              Filters.and(Filters.eq("chain", chain), Filters.eq("seq", 2L))))).first() != null));
      // the last of them to be named at its head (a checkpoint between a chain's two events names seq 1 first)
      long namedAt = seeded.stream().mapToLong(chain -> checkpoints.find(Filters.and(Filters.eq("chain", own),
          Filters.elemMatch("heads", Filters.and(Filters.eq("chain", chain), Filters.eq("seq", 2L)))))
          .sort(Sorts.ascending("seq")).first().getLong("seq")).max().orElseThrow();
      Await.until("three more checkpoints of the server", 15, () -> {
        validations(server, 1);
        return checkpoints.countDocuments(Filters.and(Filters.eq("chain", own), Filters.gt("seq", namedAt))) >= 3;
      });
      Bson later = Filters.and(Filters.eq("chain", own), Filters.gt("seq", namedAt));
      assertEquals(0, checkpoints.countDocuments(Filters.and(later, Filters.elemMatch("heads",
          Filters.in("chain", stopped)))), "later checkpoints named the stopped chains again");
      assertEquals(checkpoints.countDocuments(later), checkpoints.countDocuments(Filters.and(later,
          Filters.elemMatch("heads", Filters.and(Filters.eq("chain", crashed), Filters.eq("seq", 2L))))),
          "every later checkpoint names the crashed chain's head");
      VerifyAuditResponse clean = verify(server);
      assertTrue(clean.getOk(), clean.toString());
      for (String chain : seeded) {
        assertTrue(report(clean, chain).hasLastCheckpointTime(), "vouched for: " + report(clean, chain));
      }

      events.deleteOne(Filters.and(Filters.eq("chain", crashed), Filters.eq("seq", 2L)));
      assertProblem(verify(server), crashed, AuditProblem.AUDIT_PROBLEM_CHAIN_TRUNCATED, 2);
    }
  }

  /**
   * A chain made up with correctly computed hashes, timed ten minutes ago and never registered:
   * the server's checkpoints, signed since, name every registered chain with events (each when it
   * moves) and not it.
   * A chain registered and written just now, as a new server run's, is merely unanchored.
   */
  @Test
  void aMadeUpChainThatACheckpointSignedAfterItLeavesOutIsUnvouched() throws Exception {
    try (TestServer server = start()) {
      validations(server, 5);
      MongoCollection<Document> checkpoints = server.database().getCollection("audit_checkpoints");
      Await.until("a checkpoint", 15, () -> checkpoints.find().first() != null);
      Instant past = Instant.now().minus(Duration.ofMinutes(10));
      String madeUp = AuditChains.chainId("auth-made-up", past.toEpochMilli());
      String fresh;
      try (SeededTrail seeder = new SeededTrail(server)) {
        seeder.forge(madeUp, "auth-made-up", List.of(past, past.plusSeconds(1), past.plusSeconds(2)));
        SeededTrail.Run run = seeder.run("auth-new", Instant.now());
        run.write(AuditEventType.LOGIN, "bob", Instant.now());
        fresh = run.chain();
      }
      for (VerifyAuditResponse response : List.of(verify(server), verifyFrom(server, past.minusSeconds(3600)))) {
        assertProblem(response, madeUp, AuditProblem.AUDIT_PROBLEM_UNVOUCHED_CHAIN, 1);
        ChainReport made = report(response, madeUp);
        assertTrue(made.getDetail().startsWith("3 events from seq 1 on are older than the signed checkpoint of"),
            made.getDetail());
        assertFalse(made.hasLastCheckpointTime(), "no checkpoint names it");
        assertEquals(1, report(response, fresh).getEvents(), "the new run's chain is fine: " + report(response, fresh));
      }
    }
  }

  /**
   * Events appended, hashes and all, to the chain of an instance that stopped gracefully: its
   * writer's signed shutdown checkpoint says the chain ended there, so they are unvouched even
   * once the running instance's next checkpoint names the store's new head.
   */
  @Test
  void eventsAppendedAfterAChainsShutdownCheckpointAreUnvouched() throws Exception {
    try (TestServer first = start()) {
      Trail trail = trail(first);
      try (TestServer witness = trail.witness()) {
        try (SeededTrail seeder = new SeededTrail(witness)) {
          seeder.forge(trail.chain(), first.config().instanceId(), List.of(Instant.now(), Instant.now()));
        }
        long forgedHead = trail.lastSeq() + 2;
        validations(witness, 1);
        MongoCollection<Document> checkpoints = first.database().getCollection("audit_checkpoints");
        Await.until("the witness's next checkpoint names the forged head", 15, () ->
            checkpoints.find(Filters.and(Filters.ne("chain", trail.chain()), Filters.elemMatch("heads",
                Filters.and(Filters.eq("chain", trail.chain()), Filters.eq("seq", forgedHead))))).first() != null);
        VerifyAuditResponse response = verify(witness);
        assertProblem(response, trail.chain(), AuditProblem.AUDIT_PROBLEM_UNVOUCHED_CHAIN, trail.lastSeq() + 1);
        ChainReport chain = report(response, trail.chain());
        assertTrue(chain.getDetail().startsWith("2 events from seq " + (trail.lastSeq() + 1) + " on follow the chain's"
            + " signed shutdown checkpoint at seq " + trail.lastSeq()), chain.getDetail());
        assertTrue(chain.hasLastCheckpointTime(), chain.toString());
      }
    }
  }

  @Test
  void auditKeysAreNotTokenKeysAndCannotSignAcceptedTokens() throws Exception {
    try (TestServer server = start()) {
      String auditKeys = server.auth().getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysJson();
      String tokenKeys = server.auth().getJwks(GetJwksRequest.getDefaultInstance()).getKeysJson();
      Document audit = Document.parse(auditKeys);
      List<String> auditKids = new ArrayList<>();
      for (Object key : audit.getList("keys", Object.class)) {
        Document jwk = (Document) key;
        assertEquals("OKP", jwk.getString("kty"));
        assertEquals("Ed25519", jwk.getString("crv"));
        assertFalse(jwk.containsKey("d"), "only the public part is published");
        auditKids.add(jwk.getString("kid"));
        assertFalse(tokenKeys.contains(jwk.getString("kid")), "audit keys never appear in the token JWK Set");
        assertFalse(tokenKeys.contains(jwk.getString("x")));
      }
      assertEquals(1, auditKids.size());
      Document stored = server.database().getCollection("audit_signing_keys").find().first();
      assertEquals(auditKids.get(0), stored.getString("_id"));
      Tokens.ServerKey auditKey = Tokens.storedKey(stored);
      String forged = Tokens.sign(Tokens.header("EdDSA", "at+jwt", auditKey.kid()),
          Tokens.claims(server.config().issuer(), server.config().defaultAudience()), auditKey.privateKey());
      var answer = server.auth().validate(ValidateRequest.newBuilder().setToken(forged).build());
      assertFalse(answer.getActive(), "a token signed with the audit key is never active");
    }
  }
}
