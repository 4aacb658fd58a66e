package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two server processes' worth of instances on one store: what one revokes, the other honours within a second. */
class PropagationTest {
  private static TestServer a;
  private static TestServer b;

  @BeforeAll
  static void start() {
    a = TestServer.start();
    b = a.sibling(c -> c, Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    b.close();
    a.close();
  }

  /**
   * Asks instance B about the token until it reports the expected failure (at most 15 s of trying):
   * how long after now B still accepted it ({@link StillAccepted}).
   */
  private static long millisUntilB(ValidationFailure expected, String token) throws InterruptedException {
    StillAccepted probes = new StillAccepted(expected);
    ValidateRequest validate = ValidateRequest.newBuilder().setToken(token).build();
    Await.until("instance B reports " + expected, 15, () -> probes.probe("B", () -> b.auth().validate(validate)));
    return probes.millis();
  }

  @Test
  void aRevocationOnOneInstanceIsHonouredByTheOtherWithinOneSecond() throws Exception {
    LoginResponse login = a.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED,
        b.auth().validate(ValidateRequest.newBuilder().setToken(login.getAccessToken()).build()).getFailure());
    a.auth().revoke(RevokeRequest.newBuilder().setToken(login.getAccessToken()).build());
    long millis = millisUntilB(ValidationFailure.VALIDATION_FAILURE_REVOKED, login.getAccessToken());
    assertTrue(millis < 1000, "B still accepted the token " + millis + " ms later");
  }

  @Test
  void aDisabledUserIsHonouredByTheOtherWithinOneSecond() throws Exception {
    TestServer.withBearer(a.userAdmin(), a.adminToken()).createUser(CreateUserRequest.newBuilder()
        .setUsername("spread").setPassword("spread-Password-1").build());
    String token = b.login("spread", "spread-Password-1").getAccessToken();
    TestServer.withBearer(a.userAdmin(), a.adminToken()).disableUser(DisableUserRequest.newBuilder().setUsername("spread").build());
    long millis = millisUntilB(ValidationFailure.VALIDATION_FAILURE_USER_DISABLED, token);
    assertTrue(millis < 1000, "B still accepted the token " + millis + " ms later");
  }

  /** Writes a revocation of a token's jti as another instance would, numbered from the store's counter. */
  private static void revokeDirectly(String jti, long seq, java.util.Date recordedAt) {
    a.database().getCollection("revocations").insertOne(new org.bson.Document("_id", "token:" + jti)
        .append("kind", "token").append("value", jti).append("expires_at", null).append("seq", seq)
        .append("recorded_at", recordedAt));
  }

  private static long nextSeq() {
    return ((Number) a.database().getCollection("sequences").findOneAndUpdate(
        com.mongodb.client.model.Filters.eq("_id", "revocations"), com.mongodb.client.model.Updates.inc("seq", 1L),
        new com.mongodb.client.model.FindOneAndUpdateOptions().upsert(true)
            .returnDocument(com.mongodb.client.model.ReturnDocument.AFTER)).get("seq")).longValue();
  }

  @Test
  void aRevocationStampedByALaggingPrimaryClockIsStillSeen() throws Exception {
    // what a failover to a node whose clock is ten minutes behind writes: a fresh number, an old time
    LoginResponse first = a.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    a.auth().revoke(RevokeRequest.newBuilder().setToken(first.getAccessToken()).build());
    assertTrue(millisUntilB(ValidationFailure.VALIDATION_FAILURE_REVOKED, first.getAccessToken()) < 1000);
    LoginResponse second = a.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    revokeDirectly(second.getTokenId(), nextSeq(), java.util.Date.from(java.time.Instant.now().minusSeconds(600)));
    long millis = millisUntilB(ValidationFailure.VALIDATION_FAILURE_REVOKED, second.getAccessToken());
    assertTrue(millis < 1000, "B still accepted the token " + millis + " ms later");
  }

  @Test
  void aNumberWrittenAfterALaterOneIsNotSkipped() throws Exception {
    LoginResponse early = a.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    LoginResponse late = a.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    long slowWriter = nextSeq();
    long fastWriter = nextSeq();
    revokeDirectly(late.getTokenId(), fastWriter, new java.util.Date());
    assertTrue(millisUntilB(ValidationFailure.VALIDATION_FAILURE_REVOKED, late.getAccessToken()) < 1000);
    // the writer that took its number first writes last
    revokeDirectly(early.getTokenId(), slowWriter, new java.util.Date());
    long millis = millisUntilB(ValidationFailure.VALIDATION_FAILURE_REVOKED, early.getAccessToken());
    assertTrue(millis < 1000, "B still accepted the token " + millis + " ms later");
  }
}
