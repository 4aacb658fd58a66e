package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.ListUsersRequest;
import dev.authservice.proto.auth.v1.UnlockUserRequest;
import dev.authservice.proto.auth.v1.User;
import dev.authservice.server.throttle.ThrottleSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Brute-force defences: growing waits per username, permanent lockout, per-address limits. */
class ThrottleTest {
  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start(b -> b.throttle(new ThrottleSettings(3, Duration.ofSeconds(4), 8, 0)));
    TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(CreateUserRequest.newBuilder()
        .setUsername("victim").setPassword("victim-Password-1").build());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static StatusRuntimeException failLogin(TestServer s, String user, String password) {
    return assertThrows(StatusRuntimeException.class, () -> s.login(user, password));
  }

  private String lastLoginReason(String user) {
    return server.database().getCollection("audit_events").find(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"), Filters.eq("username", user)))
        .sort(new Document("time", -1).append("_id", -1)).first().getString("reason");
  }

  private long lockEvents(String user) {
    return server.database().getCollection("audit_events").countDocuments(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_ACCOUNT_LOCKED"), Filters.eq("username", user)));
  }

  private Document failures(String user) {
    return server.database().getCollection("login_failures").find(Filters.eq("_id", user)).first();
  }

  private TestServer later(Duration offset) {
    return server.sibling(b -> b, Clock.offset(Clock.systemUTC(), offset));
  }

  /**
   * An instance on this store whose clock moves 1 ms per attempt: the first wait (1 s) must not run
   * out between the attempts, which on the real clock a busy machine's durable writes can exceed.
   */
  private TestServer onAClockThatBarelyMoves(MutableClock clock) {
    return server.sibling(b -> b, clock);
  }

  private static StatusRuntimeException failLogin(TestServer s, MutableClock clock, String user, String password) {
    clock.advance(Duration.ofMillis(1));
    return failLogin(s, user, password);
  }

  @Test
  void afterTheThresholdEvenTheRightPasswordIsRefusedAlikeAndAudited() {
    MutableClock clock = new MutableClock();
    try (TestServer s = onAClockThatBarelyMoves(clock)) {
      StatusRuntimeException wrong = null;
      for (int i = 0; i < 3; i++) {
        wrong = failLogin(s, clock, "victim", "guess-" + i);
      }
      assertEquals(1, lockEvents("victim"));
      StatusRuntimeException throttled = failLogin(s, clock, "victim", "victim-Password-1");
      assertEquals(Status.Code.UNAUTHENTICATED, throttled.getStatus().getCode());
      assertEquals(wrong.getStatus().getDescription(), throttled.getStatus().getDescription());
      assertEquals("throttled", lastLoginReason("victim"));
    }
  }

  @Test
  void anUnknownUsernameIsThrottledExactlyLikeARealOne() {
    MutableClock clock = new MutableClock();
    try (TestServer s = onAClockThatBarelyMoves(clock)) {
      for (String user : new String[] {"victim", "no-such-user"}) {
        for (int i = 0; i < 3; i++) {
          failLogin(s, clock, user, "guess-" + i);
        }
        assertEquals(1, lockEvents(user), user);
        failLogin(s, clock, user, "another-guess");
        assertEquals("throttled", lastLoginReason(user), user);
        assertTrue(failures(user).getDate("locked_until") != null, user);
      }
    }
  }

  @Test
  void waitsDoubleUpToTheMaximumAndASuccessResetsThem() {
    long[] waits = new long[4];
    for (int round = 0; round < 4; round++) {
      Duration offset = Duration.ofMinutes(round);
      try (TestServer s = later(offset)) {
        int attempts = round == 0 ? 3 : 1;
        for (int i = 0; i < attempts; i++) {
          failLogin(s, "victim", "guess");
        }
      }
      Document doc = failures("victim");
      waits[round] = doc.getDate("locked_until").getTime() - doc.getDate("last_failure").getTime();
    }
    assertEquals(1000, waits[0]);
    assertEquals(2000, waits[1]);
    assertEquals(4000, waits[2]);
    assertEquals(4000, waits[3], "capped at AUTH_THROTTLE_MAX_WAIT");
    assertEquals(4, lockEvents("victim"), "each wait is an ACCOUNT_LOCKED event");

    try (TestServer s = later(Duration.ofMinutes(10))) {
      s.login("victim", "victim-Password-1");
    }
    assertEquals(null, failures("victim"), "a successful login forgets the failures");
  }

  @Test
  void permanentLockoutHoldsUntilAnAdminUnlocks() {
    for (int i = 0; i < 8; i++) {
      try (TestServer s = later(Duration.ofMinutes(i))) {
        failLogin(s, "victim", "guess");
      }
    }
    assertTrue(failures("victim").getBoolean("locked_permanently"));
    try (TestServer s = later(Duration.ofDays(3))) {
      failLogin(s, "victim", "victim-Password-1");
    }
    assertEquals("locked", lastLoginReason("victim"));
    User listed = TestServer.withBearer(server.userAdmin(), server.adminToken())
        .listUsers(ListUsersRequest.getDefaultInstance()).getUsersList().stream()
        .filter(u -> u.getUsername().equals("victim")).findFirst().orElseThrow();
    assertTrue(listed.getLockedPermanently());

    User unlocked = TestServer.withBearer(server.userAdmin(), server.adminToken())
        .unlockUser(UnlockUserRequest.newBuilder().setUsername("victim").build()).getUser();
    assertFalse(unlocked.getLockedPermanently());
    assertFalse(server.login("victim", "victim-Password-1").getAccessToken().isEmpty());
    assertEquals(1, server.database().getCollection("audit_events").countDocuments(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_USER_UNLOCK"), Filters.eq("username", "victim"))));
  }

  /**
   * A failure record an operator edited by hand in mongosh: {@code failures: 0} is stored as a
   * double, a lock's time typed as text. Read, never INTERNAL, and closed: the count reset works,
   * the lock that is not a date holds until an admin unlocks.
   */
  @Test
  void aFailureRecordEditedByHandIsReadClosed() {
    var records = server.database().getCollection("login_failures");
    records.insertOne(new Document("_id", "victim").append("failures", 0.0).append("v", 5.0)
        .append("last_failure", "yesterday"));
    assertFalse(server.login("victim", "victim-Password-1").getAccessToken().isEmpty(),
        "a count reset by hand lets the user in");

    records.insertOne(new Document("_id", "victim").append("failures", 2.0).append("v", 6.0)
        .append("locked_until", "tomorrow"));
    StatusRuntimeException locked = failLogin(server, "victim", "victim-Password-1");
    assertEquals(Status.Code.UNAUTHENTICATED, locked.getStatus().getCode());
    assertEquals("locked", lastLoginReason("victim"));

    TestServer.withBearer(server.userAdmin(), server.adminToken())
        .unlockUser(UnlockUserRequest.newBuilder().setUsername("victim").build());
    assertFalse(server.login("victim", "victim-Password-1").getAccessToken().isEmpty(), "unlocked by an admin");

    // a count stored as a double is counted on: two, and one more guess reaches the threshold of three
    records.insertOne(new Document("_id", "victim").append("failures", 2.0).append("v", 7.0));
    MutableClock clock = new MutableClock();
    try (TestServer s = onAClockThatBarelyMoves(clock)) {
      failLogin(s, clock, "victim", "guess");
      failLogin(s, clock, "victim", "victim-Password-1");
      assertEquals("throttled", lastLoginReason("victim"));
    }
  }

  @Test
  void onlyAdminsMayUnlock() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> TestServer.withBearer(
        server.userAdmin(), server.login("victim", "victim-Password-1").getAccessToken())
        .unlockUser(UnlockUserRequest.newBuilder().setUsername("victim").build()));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
  }

  @Test
  void oneAddressGuessingManyUsernamesIsStopped() {
    // inside one minute: the address limit weighs the minute before, and on the real clock a busy
    // machine's attempts could straddle a minute's end and get budget back
    MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.MINUTES).plusSeconds(1));
    try (TestServer limited = server.sibling(b -> b.throttle(new ThrottleSettings(100, Duration.ofMinutes(15), 0, 5)),
        clock)) {
      for (int i = 0; i < 5; i++) {
        failLogin(limited, clock, "stuffed-" + i, "password-" + i);
      }
      StatusRuntimeException refused = failLogin(limited, clock, "victim", "victim-Password-1");
      assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
      assertEquals("address_rate_limited", lastLoginReason("victim"));
    }
  }

  @Test
  void aPermanentLockOfANameNobodyHasIsForgottenButARealAccountsIsNot() {
    for (int i = 0; i < 8; i++) {
      try (TestServer s = later(Duration.ofMinutes(i))) {
        failLogin(s, "victim", "guess");
        failLogin(s, "sprayed-name", "guess");
      }
    }
    assertTrue(failures("victim").getBoolean("locked_permanently"));
    assertEquals(null, failures("victim").getDate("forget_at"), "a real account stays locked until unlocked");
    assertTrue(failures("sprayed-name").getBoolean("locked_permanently"));
    assertTrue(failures("sprayed-name").getDate("forget_at") != null,
        "a lock of a name nobody has does not grow the store for good");
  }
}
