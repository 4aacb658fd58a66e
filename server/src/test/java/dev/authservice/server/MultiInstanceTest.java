package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuditProblem;
import dev.authservice.proto.auth.v1.ChainReport;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import dev.authservice.proto.auth.v1.ValidationFailure;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three server processes on one store under logins, validations and revocations at once, with
 * the scheduled review firing in the middle and one process killed (SIGKILL) near the end. Then:
 * every answered call has its event exactly once (the killed process's unanswered last call may
 * or may not have one), every chain verifies, revocations reached the other instances within a
 * second, and exactly one instance ran the scheduled review. On the embedded store (started in
 * this JVM, reached by the processes with its credential) or on MONGODB_URI.
 */
class MultiInstanceTest {
  private static final int INSTANCES = 3;
  private static final int VALIDATORS_PER_INSTANCE = 4;
  private static final int REVOCATION_ROUNDS = 9;
  private static final String VALIDATE = "AUDIT_EVENT_TYPE_TOKEN_VALIDATE";
  private static final String LOGIN = "AUDIT_EVENT_TYPE_LOGIN";
  private static final String REVOKE = "AUDIT_EVENT_TYPE_TOKEN_REVOKE";
  private static final String REVIEW_VICTIM = "mi-review-victim";
  /** What SuspiciousActivityReview logs when it has reviewed a window. */
  private static final Pattern REVIEW_RAN = Pattern.compile("review of \\S+ \\.\\. \\S+: \\d+ alerts");

  /** What SuspiciousActivityReview logs when another instance has claimed the scheduled run. */
  private static final String SKIPPED = "is another instance's";
  /** How long before the review's minute the load starts: time for the revocation rounds. */
  private static final long LOAD_BEFORE_REVIEW_MS = 12_000;

  @TempDir Path dir;

  /** Answered calls by what their event is found by: type and token id, or type and username. */
  private final Map<String, AtomicLong> answered = new ConcurrentHashMap<>();

  @Test
  void threeInstancesOnOneStoreLoseNothingAndReviewOnce() throws Exception {
    TestServer.TestStore store = TestServer.TestStore.create();
    List<ServerProcess> servers = new ArrayList<>();
    ExecutorService load = Executors.newCachedThreadPool();
    try {
      seedYesterdaysFailedLogins(store.database().getCollection("audit_events"));
      for (int i = 0; i < INSTANCES; i++) {
        // every instance with the same schedule, as a deployment has: each minute, the previous UTC day
        servers.add(ServerProcess.start("mi-" + i, store.uri(), store.databaseName(), dir,
            Map.of("AUTH_REVIEW_SCHEDULE", "* * * * *", "AUTH_AUDIT_CHECKPOINT_INTERVAL", "PT2S")));
      }
      for (ServerProcess server : servers) {
        server.awaitServing();
      }
      String admin = servers.get(0).auth().login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
          .setPassword(TestServer.ADMIN_PASSWORD).build()).getAccessToken();
      UserAdminServiceGrpc.UserAdminServiceBlockingStub users = TestServer.withBearer(
          UserAdminServiceGrpc.newBlockingStub(servers.get(0).channel()).withDeadlineAfter(10, TimeUnit.SECONDS), admin);
      for (int i = 0; i < INSTANCES; i++) {
        users.createUser(CreateUserRequest.newBuilder().setUsername(loginUser(i)).setPassword("mi-Password-1").build());
      }

      // the processes fire their review at the next full minute: the load starts shortly before it, not
      // up to a minute early, so the test holds two cores for seconds, not a minute (idle waiting is cheap)
      Await.until("shortly before the review's minute", 60, java.time.Duration.ofMillis(200),
          () -> 60_000 - System.currentTimeMillis() % 60_000 <= LOAD_BEFORE_REVIEW_MS);

      ServerProcess victim = servers.get(INSTANCES - 1);
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<?>> workers = new ArrayList<>();
      for (ServerProcess server : servers) {
        for (int v = 0; v < VALIDATORS_PER_INSTANCE; v++) {
          LoginResponse own = server.auth().login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
              .setPassword(TestServer.ADMIN_PASSWORD).build());
          workers.add(load.submit(() -> validateUntil(stop, server, own)));
        }
        workers.add(load.submit(() -> loginUntil(stop, server, loginUser(servers.indexOf(server)))));
      }

      Future<List<Long>> propagation = load.submit(() -> revokeAcross(servers));
      // the processes fire their review at the next full minute; the load goes on until then
      Await.until("an instance ran the scheduled review", 75,
          () -> store.database().getCollection("audit_events").countDocuments(Filters.and(
              Filters.eq("type", "AUDIT_EVENT_TYPE_ALERT"), Filters.eq("username", REVIEW_VICTIM))) > 0);
      List<Long> millis = propagation.get(60, TimeUnit.SECONDS);
      // every instance's schedule fires (at the same minute unless one came up after it): ran it, or skipped it
      Await.until("every instance's scheduled review fired", 75, () -> servers.stream()
          .allMatch(s -> REVIEW_RAN.matcher(s.log()).find() || s.log().contains(SKIPPED)));

      // killed under load: what it answered must already be in the store
      long victimCalls = answeredOn(victim);
      Await.until("more load on the instance about to die", 10, () -> answeredOn(victim) > victimCalls + 20);
      victim.kill();
      long survivorsCalls = answeredTotal();
      Await.until("load on the survivors after the kill", 10, () -> answeredTotal() > survivorsCalls + 50);
      stop.set(true);
      for (Future<?> worker : workers) {
        worker.get(30, TimeUnit.SECONDS);
      }

      assertEventsExactlyOnce(store.database().getCollection("audit_events"), victim);
      assertChainsVerify(servers.get(0), admin, INSTANCES);
      assertReviewedOnce(servers, store.database().getCollection("audit_events"));
      long worst = millis.stream().mapToLong(Long::longValue).max().orElseThrow();
      System.out.println("answered " + answeredTotal() + " calls; revoked tokens still accepted (ms after the revocation, each other instance): " + millis);
      assertTrue(worst < 1000, "another instance still accepted a revoked token " + worst + " ms after its revocation: " + millis);
    } finally {
      load.shutdownNow();
      for (ServerProcess server : servers) {
        server.close();
      }
      store.release();
    }
  }

  private static String loginUser(int instance) {
    return "mi-login-" + instance;
  }

  private long answeredOn(ServerProcess server) {
    return answered.entrySet().stream().filter(e -> e.getKey().startsWith(server.instanceId() + "|"))
        .mapToLong(e -> e.getValue().get()).sum();
  }

  private long answeredTotal() {
    return answered.values().stream().mapToLong(AtomicLong::get).sum();
  }

  /** Counts an answered call under "instance|type|key". */
  private void count(ServerProcess server, String type, String key) {
    answered.computeIfAbsent(server.instanceId() + "|" + type + "|" + key, k -> new AtomicLong()).incrementAndGet();
  }

  private Void validateUntil(AtomicBoolean stop, ServerProcess server, LoginResponse own) {
    ValidateRequest request = ValidateRequest.newBuilder().setToken(own.getAccessToken()).build();
    while (!stop.get()) {
      try {
        server.auth().validate(request);
        count(server, VALIDATE, own.getTokenId());
      } catch (StatusRuntimeException e) {
        // only the killed instance stops answering; its count is what it answered before
      }
    }
    return null;
  }

  private Void loginUntil(AtomicBoolean stop, ServerProcess server, String username) {
    LoginRequest request = LoginRequest.newBuilder().setUsername(username).setPassword("mi-Password-1").build();
    while (!stop.get()) {
      try {
        server.auth().login(request);
        count(server, LOGIN, username);
      } catch (StatusRuntimeException e) {
        // as above
      }
    }
    return null;
  }

  /**
   * Round by round, a token issued and revoked on one instance and validated on the others until
   * they report it revoked: milliseconds from the answered Revoke to the last probe each other
   * instance still accepted (0 when it refused the first one).
   */
  private List<Long> revokeAcross(List<ServerProcess> servers) throws InterruptedException {
    List<Long> millis = new ArrayList<>();
    for (int round = 0; round < REVOCATION_ROUNDS; round++) {
      ServerProcess origin = servers.get(round % servers.size());
      LoginResponse login = origin.auth().login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
          .setPassword(TestServer.ADMIN_PASSWORD).build());
      ValidateRequest check = ValidateRequest.newBuilder().setToken(login.getAccessToken()).build();
      List<ServerProcess> others = servers.stream().filter(s -> s != origin).toList();
      for (ServerProcess other : others) {
        // in the other instance's verified-token cache before the revocation, as a busy token is
        assertTrue(other.auth().validate(check).getActive(), "a fresh token is active on " + other.instanceId());
        count(other, VALIDATE, login.getTokenId());
      }
      origin.auth().revoke(RevokeRequest.newBuilder().setToken(login.getAccessToken()).build());
      count(origin, REVOKE, login.getTokenId());
      // every instance not yet refusing it is asked in turn, so no instance's time includes waiting on another's
      List<ServerProcess> waiting = new ArrayList<>(others);
      java.util.Map<ServerProcess, StillAccepted> probes = new java.util.HashMap<>();
      for (ServerProcess other : others) {
        probes.put(other, new StillAccepted(ValidationFailure.VALIDATION_FAILURE_REVOKED));
      }
      Await.until("the revocation reaches " + waiting, 15, java.time.Duration.ofMillis(10), () -> {
        for (ServerProcess other : List.copyOf(waiting)) {
          boolean refused = probes.get(other).probe(other.instanceId(), () -> {
            ValidateResponse answer = other.auth().validate(check);
            count(other, VALIDATE, login.getTokenId());
            return answer;
          });
          if (refused) {
            millis.add(probes.get(other).millis());
            waiting.remove(other);
          }
        }
        return waiting.isEmpty();
      });
    }
    return millis;
  }

  /**
   * Each counted call's event is in the store once: equal counts, except on the killed instance,
   * whose last call on each key may have been written but never answered.
   */
  private void assertEventsExactlyOnce(MongoCollection<Document> events, ServerProcess killed) {
    Map<String, Long> byKey = new java.util.HashMap<>();
    Map<String, Boolean> onKilled = new java.util.HashMap<>();
    answered.forEach((k, count) -> {
      String[] parts = k.split("\\|", 3);
      String key = parts[1] + "|" + parts[2];
      byKey.merge(key, count.get(), Long::sum);
      onKilled.merge(key, parts[0].equals(killed.instanceId()), Boolean::logicalOr);
    });
    assertTrue(byKey.size() >= INSTANCES * (VALIDATORS_PER_INSTANCE + 1) + REVOCATION_ROUNDS * 2, "keys " + byKey);
    long killedAnswered = byKey.entrySet().stream().filter(e -> onKilled.get(e.getKey()))
        .mapToLong(Map.Entry::getValue).sum();
    assertTrue(killedAnswered > 0, "the killed instance answered nothing");
    byKey.forEach((key, count) -> {
      String[] parts = key.split("\\|", 2);
      String field = parts[0].equals(LOGIN) ? "username" : "token_id";
      long stored = events.countDocuments(Filters.and(Filters.eq("type", parts[0]), Filters.eq(field, parts[1])));
      if (onKilled.get(key)) {
        assertTrue(stored >= count && stored <= count + 1, key + ": answered " + count + ", stored " + stored
            + " (the killed instance lost what it acknowledged, or wrote events twice)");
      } else {
        assertEquals((long) count, stored, key + ": answered " + count + " calls, stored " + stored + " events");
      }
    });
  }

  private static void assertChainsVerify(ServerProcess server, String admin, int instances) {
    VerifyAuditResponse verify = TestServer.withBearer(server.auth(), admin)
        .withDeadlineAfter(60, TimeUnit.SECONDS).verifyAudit(VerifyAuditRequest.getDefaultInstance());
    for (ChainReport chain : verify.getChainsList()) {
      assertEquals(AuditProblem.AUDIT_PROBLEM_UNSPECIFIED, chain.getProblem(), chain.getChain() + ": " + chain.getDetail());
    }
    assertTrue(verify.getOk(), verify.toString());
    long withEvents = verify.getChainsList().stream().filter(c -> c.getEvents() > 0).count();
    assertTrue(withEvents >= instances, "chains with events: " + verify.getChainsList());
  }

  /** One instance reviewed the window and recorded the alert once; the others found it claimed. */
  private static void assertReviewedOnce(List<ServerProcess> servers, MongoCollection<Document> events) {
    List<String> ran = new ArrayList<>();
    for (ServerProcess server : servers) {
      Matcher m = REVIEW_RAN.matcher(server.log());
      while (m.find()) {
        ran.add(server.instanceId() + ": " + m.group());
      }
    }
    assertEquals(1, ran.size(), "instances that ran the scheduled review: " + ran);
    assertEquals(1, events.countDocuments(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_ALERT"),
        Filters.eq("username", REVIEW_VICTIM))), "the review's alert, once");
  }

  /** A burst of failed logins yesterday noon (UTC) for the review to find, as an earlier day's trail holds. */
  private static void seedYesterdaysFailedLogins(MongoCollection<Document> events) {
    Instant noon = Instant.now().atZone(ZoneOffset.UTC).toLocalDate().minusDays(1).atTime(12, 0)
        .toInstant(ZoneOffset.UTC);
    List<Document> burst = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      burst.add(new Document("_id", UUID.randomUUID().toString()).append("time", Date.from(noon.plusSeconds(i)))
          .append("type", LOGIN).append("outcome", "AUDIT_OUTCOME_FAILURE")
          .append("username", REVIEW_VICTIM).append("count", 1L));
    }
    events.insertMany(burst);
  }
}
