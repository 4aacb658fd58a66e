package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.server.throttle.ThrottleSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.junit.jupiter.api.Test;

/**
 * Many guesses at one account sent at once: the throttle counts each attempt before its password
 * is checked, in one conditional write, so the lockout holds however many arrive together, on
 * one instance or several sharing the store.
 */
class LoginRaceTest {
  private static final String VICTIM = "victim";
  private static final String PASSWORD = "victim-Password-1";

  private static void createVictim(TestServer server) {
    TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(CreateUserRequest.newBuilder()
        .setUsername(VICTIM).setPassword(PASSWORD).build());
  }

  /** Sends every attempt at the same moment; returns how many were answered with tokens. */
  private static int sendAtOnce(List<TestServer> servers, int perServer, String rightPasswordAt) throws Exception {
    int total = servers.size() * perServer;
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Boolean>> answers = new ArrayList<>();
    try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < total; i++) {
        TestServer target = servers.get(i % servers.size());
        String password = rightPasswordAt.equals(String.valueOf(i)) ? PASSWORD : "wrong-guess-" + i;
        Callable<Boolean> call = () -> {
          start.await();
          try {
            target.login(VICTIM, password);
            return true;
          } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
            assertEquals("invalid username or password", e.getStatus().getDescription(),
                "a refused attempt reads exactly like a wrong password");
            return false;
          }
        };
        answers.add(callers.submit(call));
      }
      start.countDown();
      int granted = 0;
      for (Future<Boolean> answer : answers) {
        granted += answer.get() ? 1 : 0;
      }
      return granted;
    }
  }

  /**
   * The throttle of the lockout tests, with guesses waiting up to 15 s for their account's turn
   * instead of the default 5 s: the five passwords checked one at a time, each hashed and written
   * durably, may take longer than 5 s on a busy machine, and a guess that gave up waiting is not
   * what those tests count. 15 s stays below the test stubs' 20 s deadline.
   */
  private static ThrottleSettings patient(int failuresBeforeWait, int lockoutAfterFailures) {
    return new ThrottleSettings(failuresBeforeWait, Duration.ofMinutes(15), lockoutAfterFailures, 0,
        Duration.ofSeconds(15), ThrottleSettings.DEFAULT_ACCOUNT_TURN_QUEUE);
  }

  private static long events(TestServer server, Bson filter) {
    return server.database().getCollection("audit_events").countDocuments(filter);
  }

  private static long loginAttemptsCounted(TestServer server) {
    long total = 0;
    for (Document e : server.database().getCollection("audit_events").find(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"), Filters.eq("username", VICTIM)))) {
      total += e.get("count") instanceof Number n ? n.longValue() : 1;
    }
    return total;
  }

  @Test
  void sixtyParallelGuessesCheckNoMorePasswordsThanTheLockoutAllows() throws Exception {
    try (TestServer server = TestServer.start(b -> b.throttle(patient(100, 5))
        .rollupFlushInterval(Duration.ofMillis(200)))) {
      createVictim(server);
      int granted = sendAtOnce(List.of(server), 60, "none");
      assertEquals(0, granted);
      long badPasswords = events(server, Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"),
          Filters.eq("username", VICTIM), Filters.eq("reason", "bad_password")));
      assertEquals(5, badPasswords, "passwords checked");
      StatusRuntimeException locked = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> server.login(VICTIM, PASSWORD));
      assertEquals(Status.Code.UNAUTHENTICATED, locked.getStatus().getCode(), "even the right password, once locked");
      assertEquals(1, events(server, Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_ACCOUNT_LOCKED"),
          Filters.eq("username", VICTIM))), "one ACCOUNT_LOCKED event per lock");
      Document failures = server.database().getCollection("login_failures").find(Filters.eq("_id", VICTIM)).first();
      assertTrue(failures.getBoolean("locked_permanently"));
      // every refused attempt is still accounted for, in a handful of documents
      Await.until("all 61 attempts counted in the trail", 10, () -> loginAttemptsCounted(server) == 61);
      assertTrue(events(server, Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"),
          Filters.eq("username", VICTIM), Filters.eq("reason", "locked"))) <= 10);
    }
  }

  @Test
  void twoInstancesSharingTheStoreShareTheBound() throws Exception {
    try (TestServer first = TestServer.start(b -> b.throttle(patient(100, 5)));
        TestServer second = first.sibling(b -> b, Clock.systemUTC())) {
      createVictim(first);
      int granted = sendAtOnce(List.of(first, second), 30, "none");
      assertEquals(0, granted);
      long badPasswords = events(first, Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"),
          Filters.eq("username", VICTIM), Filters.eq("reason", "bad_password")));
      assertTrue(badPasswords <= 5, "passwords checked across two instances: " + badPasswords);
      assertEquals(5, badPasswords, "exactly the lockout's worth were checked");
      assertEquals(1, events(first, Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_ACCOUNT_LOCKED"),
          Filters.eq("username", VICTIM))));
    }
  }

  @Test
  void throttleWaitsHoldAgainstParallelGuessesToo() throws Exception {
    // no permanent lockout: waits start after 3 failures. The server's clock stands still, so the
    // first one-second wait never runs out while the flood is answered, however slowly a busy
    // machine drains it; and guesses wait up to 15 s (real time) for the account's turn, so the
    // three checks that are due happen even when each takes seconds: exactly three, not fewer
    try (TestServer server = TestServer.start(b -> b.throttle(new ThrottleSettings(3, Duration.ofMinutes(15), 0, 0,
        Duration.ofSeconds(15), ThrottleSettings.DEFAULT_ACCOUNT_TURN_QUEUE)), new MutableClock())) {
      createVictim(server);
      int granted = sendAtOnce(List.of(server), 60, "none");
      assertEquals(0, granted);
      long badPasswords = events(server, Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"),
          Filters.eq("username", VICTIM), Filters.eq("reason", "bad_password")));
      assertEquals(3, badPasswords, "passwords checked");
    }
  }
}
