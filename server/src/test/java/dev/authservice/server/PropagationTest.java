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

  /** Milliseconds until instance B reports the expected failure for the token (at most 5 s of trying). */
  private static long millisUntilB(ValidationFailure expected, String token) throws InterruptedException {
    long start = System.nanoTime();
    while (System.nanoTime() - start < 5_000_000_000L) {
      ValidationFailure seen = b.auth().validate(ValidateRequest.newBuilder().setToken(token).build()).getFailure();
      if (seen == expected) {
        return (System.nanoTime() - start) / 1_000_000;
      }
      Thread.sleep(20);
    }
    return Long.MAX_VALUE;
  }

  @Test
  void aRevocationOnOneInstanceIsHonouredByTheOtherWithinOneSecond() throws Exception {
    LoginResponse login = a.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED,
        b.auth().validate(ValidateRequest.newBuilder().setToken(login.getAccessToken()).build()).getFailure());
    a.auth().revoke(RevokeRequest.newBuilder().setToken(login.getAccessToken()).build());
    long millis = millisUntilB(ValidationFailure.VALIDATION_FAILURE_REVOKED, login.getAccessToken());
    assertTrue(millis < 1000, "took " + millis + " ms");
  }

  @Test
  void aDisabledUserIsHonouredByTheOtherWithinOneSecond() throws Exception {
    TestServer.withBearer(a.userAdmin(), a.adminToken()).createUser(CreateUserRequest.newBuilder()
        .setUsername("spread").setPassword("spread-Password-1").build());
    String token = b.login("spread", "spread-Password-1").getAccessToken();
    TestServer.withBearer(a.userAdmin(), a.adminToken()).disableUser(DisableUserRequest.newBuilder().setUsername("spread").build());
    long millis = millisUntilB(ValidationFailure.VALIDATION_FAILURE_USER_DISABLED, token);
    assertTrue(millis < 1000, "took " + millis + " ms");
  }
}
