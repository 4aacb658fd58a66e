package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import dev.authservice.server.keys.SigningAlgorithm;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * A token verified once is not verified cryptographically again, but everything else still is,
 * and the verification lasts no longer than the key that made it stays in the key set.
 */
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

  private static String rotate(TestServer server) {
    return TestServer.withBearer(KeyAdminServiceGrpc.newBlockingStub(server.channel()), server.adminToken())
        .withDeadlineAfter(20, TimeUnit.SECONDS).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance())
        .getKid();
  }

  private static Set<String> jwksKids(TestServer server) {
    return KeyAttacks.kids(server.auth().getJwks(GetJwksRequest.getDefaultInstance()).getKeysJson());
  }

  @Test
  void aCachedVerificationEndsWhenItsKeyIsRemovedFromTheStore() throws Exception {
    try (TestServer server = TestServer.start()) {
      String token = server.adminToken();
      String kid = KeyAttacks.kidOf(token);
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, validate(server, token));
      String next = rotate(server);
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, validate(server, token),
          "retired, the key still verifies its tokens, from the cache");

      server.database().getCollection("signing_keys").deleteOne(Filters.eq("_id", kid));
      Await.until("the next reload drops the deleted key", 15, () -> jwksKids(server).equals(Set.of(next)));
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY, validate(server, token),
          "the cached verification went with its key");
    }
  }

  @Test
  void aCachedVerificationEndsWhenItsKeyIsFoundUntrustworthy() throws Exception {
    KeySettings kek = new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.of(KeyAttacks.randomKek()),
        false);
    try (TestServer server = TestServer.start(b -> b.keys(kek))) {
      String token = server.adminToken();
      String kid = KeyAttacks.kidOf(token);
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, validate(server, token));
      String next = rotate(server);
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, validate(server, token));

      // the encrypted key replaced by a plaintext one under the same kid
      Document planted = KeyAttacks.plaintextKey(kid, 1, "RS256", Tokens.otherKeyPair("RS256"));
      server.database().getCollection("signing_keys").replaceOne(Filters.eq("_id", kid), planted);
      Await.until("the next reload drops the untrusted key", 15, () -> jwksKids(server).equals(Set.of(next)));
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY, validate(server, token));
    }
  }
}
