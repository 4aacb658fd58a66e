package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A token verified once is not verified cryptographically again, but everything else still is. */
class VerifiedTokenCacheTest {
  private static ValidationFailure validate(TestServer server, String token) {
    return server.auth().validate(ValidateRequest.newBuilder().setToken(token).build()).getFailure();
  }

  @Test
  void aCachedTokenStillExpiresAndIsStillRevocable() {
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b, clock)) {
      LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      String token = login.getAccessToken();
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, validate(server, token));
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, validate(server, token));

      String[] parts = token.split("\\.");
      Map<String, Object> claims = Tokens.decodePart(token, 1);
      claims.put("roles", java.util.List.of("admin", "superuser"));
      assertEquals(ValidationFailure.VALIDATION_FAILURE_BAD_SIGNATURE,
          validate(server, parts[0] + "." + Tokens.encode(claims) + "." + parts[2]),
          "another payload under a cached token's signature is a miss, and fails");
      assertEquals(ValidationFailure.VALIDATION_FAILURE_WRONG_AUDIENCE, server.auth().validate(
          ValidateRequest.newBuilder().setToken(token).setAudience("elsewhere").build()).getFailure());

      clock.advance(Duration.ofMinutes(15).plusSeconds(31));
      assertEquals(ValidationFailure.VALIDATION_FAILURE_EXPIRED, validate(server, token));
    }
  }
}
