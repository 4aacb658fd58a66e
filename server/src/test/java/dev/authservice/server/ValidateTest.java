package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import dev.authservice.proto.auth.v1.ValidationFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import dev.authservice.server.keys.SigningAlgorithm;

/** Every validation failure with a real crafted token, once per signing algorithm (the subclasses). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ValidateTest {
  private TestServer server;
  private Tokens.ServerKey key;
  private String issuer;
  private String audience;

  abstract SigningAlgorithm algorithm();

  @BeforeAll
  void start() {
    server = TestServer.start(b -> b.allowedAudiences(Set.of("billing"))
        .keys(new KeySettings(algorithm(), java.util.Optional.empty(), java.util.Optional.empty(), true)));
    key = Tokens.serverKey(server.database());
    assertEquals(algorithm().jwsName(), key.alg());
    issuer = server.config().issuer();
    audience = server.config().defaultAudience();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private ValidateResponse validate(String token) {
    return server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
  }

  private void assertFailure(ValidationFailure expected, String token) {
    ValidateResponse response = validate(token);
    assertFalse(response.getActive(), "token must not be active");
    assertEquals(expected, response.getFailure());
    assertTrue(response.getSubject().isEmpty() && response.getRolesList().isEmpty(),
        "an inactive answer carries no claims");
  }

  @Test
  void aFreshTokenIsActiveWithItsClaims() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    ValidateResponse response = validate(login.getAccessToken());
    assertTrue(response.getActive());
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, response.getFailure());
    assertEquals(TestServer.ADMIN, response.getUsername());
    assertEquals(List.of("admin"), response.getRolesList());
    assertEquals(login.getTokenId(), response.getTokenId());
    assertEquals(issuer, response.getIssuer());
    assertEquals(List.of(audience), response.getAudienceList());
    assertEquals(login.getExpiresAt(), response.getExpiresAt());
    assertFalse(response.getSubject().isEmpty());
  }

  @Test
  void theServerKeyWithCorrectClaimsIsAccepted() {
    // the control for every crafted token below: only the one thing each changes makes it fail
    assertTrue(validate(Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()),
        Tokens.claims(issuer, audience), key.privateKey())).getActive());
  }

  @Test
  void expired() {
    Map<String, Object> claims = Tokens.claims(issuer, audience);
    long now = Instant.now().getEpochSecond();
    claims.put("iat", now - 7200);
    claims.put("nbf", now - 7200);
    claims.put("exp", now - 3600);
    assertFailure(ValidationFailure.VALIDATION_FAILURE_EXPIRED,
        Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), claims, key.privateKey()));
  }

  @Test
  void expiryWithinTheClockSkewIsTolerated() {
    Map<String, Object> claims = Tokens.claims(issuer, audience);
    long now = Instant.now().getEpochSecond();
    claims.put("iat", now - 600);
    claims.put("exp", now - 10);
    assertTrue(validate(Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), claims, key.privateKey())).getActive());
  }

  @Test
  void aLifetimeLongerThanTheServersTtlIsRefusedEvenUnderTheServersKey() {
    // what someone holding the private key (a stolen backup, a planted key) would mint: long-lived tokens
    long now = Instant.now().getEpochSecond();
    long longest = server.config().tokenTtl().plus(server.config().clockSkew()).toSeconds();
    Map<String, Object> claims = Tokens.claims(issuer, audience);
    claims.put("exp", now + longest + 60);
    assertFailure(ValidationFailure.VALIDATION_FAILURE_LIFETIME_TOO_LONG,
        Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), claims, key.privateKey()));

    Map<String, Object> backdated = Tokens.claims(issuer, audience);
    backdated.put("iat", now - 86_400);
    backdated.put("nbf", now - 86_400);
    assertFailure(ValidationFailure.VALIDATION_FAILURE_LIFETIME_TOO_LONG,
        Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), backdated, key.privateKey()));

    Map<String, Object> fullTtl = Tokens.claims(issuer, audience);
    fullTtl.put("exp", now + server.config().tokenTtl().toSeconds());
    assertTrue(validate(Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), fullTtl, key.privateKey()))
        .getActive(), "a token as long-lived as the server issues stays active");
  }

  @Test
  void notYetValid() {
    Map<String, Object> claims = Tokens.claims(issuer, audience);
    claims.put("nbf", Instant.now().getEpochSecond() + 3600);
    assertFailure(ValidationFailure.VALIDATION_FAILURE_NOT_YET_VALID,
        Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), claims, key.privateKey()));
  }

  @Test
  void tokenIssuedByAServerWhoseClockRunsAheadIsNotYetValid() {
    Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));
    try (TestServer future = server.sibling(b -> b, ahead)) {
      String token = future.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
      assertFailure(ValidationFailure.VALIDATION_FAILURE_NOT_YET_VALID, token);
    }
  }

  @Test
  void payloadAlteredAfterSigning() {
    String token = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
    String[] parts = token.split("\\.");
    Map<String, Object> claims = Tokens.decodePart(token, 1);
    claims.put("username", "someone-else");
    assertFailure(ValidationFailure.VALIDATION_FAILURE_BAD_SIGNATURE,
        parts[0] + "." + Tokens.encode(claims) + "." + parts[2]);
  }

  @Test
  void signatureFromAnotherKeyUnderTheServersKid() {
    assertFailure(ValidationFailure.VALIDATION_FAILURE_BAD_SIGNATURE,
        Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), Tokens.claims(issuer, audience), Tokens.otherKeyPair(key.alg()).getPrivate()));
  }

  @Test
  void embeddedJwkAndJkuHeadersAreNotFollowed() {
    // the attacker signs with its own key and ships that key in the header: if the verifier
    // used an embedded or remote key, this token would be active
    java.security.KeyPair attacker = Tokens.otherKeyPair(key.alg());
    Map<String, Object> header = Tokens.header(key.alg(), "at+jwt", key.kid());
    header.put("jku", "https://attacker.example/jwks.json");
    header.put("x5u", "https://attacker.example/cert.pem");
    header.put("jwk", Tokens.jwk(attacker.getPublic()));
    assertFailure(ValidationFailure.VALIDATION_FAILURE_BAD_SIGNATURE,
        Tokens.sign(header, Tokens.claims(issuer, audience), attacker.getPrivate()));
    Map<String, Object> withoutKid = Tokens.header(key.alg(), "at+jwt", null);
    withoutKid.put("jwk", Tokens.jwk(attacker.getPublic()));
    assertFailure(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY,
        Tokens.sign(withoutKid, Tokens.claims(issuer, audience), attacker.getPrivate()));
  }

  @Test
  void algNone() {
    assertFailure(ValidationFailure.VALIDATION_FAILURE_UNSUPPORTED_ALGORITHM,
        Tokens.unsigned(Tokens.header("none", "at+jwt", key.kid()), Tokens.claims(issuer, audience)));
  }

  @Test
  void hs256SignedWithThePublicKey() {
    byte[] publicKeyBytes = key.publicKey().getEncoded();
    assertFailure(ValidationFailure.VALIDATION_FAILURE_UNSUPPORTED_ALGORITHM,
        Tokens.hs256(Tokens.header("HS256", "at+jwt", key.kid()), Tokens.claims(issuer, audience), publicKeyBytes));
    String pem = Base64.getEncoder().encodeToString(publicKeyBytes);
    assertFailure(ValidationFailure.VALIDATION_FAILURE_UNSUPPORTED_ALGORITHM,
        Tokens.hs256(Tokens.header("HS256", "at+jwt", key.kid()), Tokens.claims(issuer, audience),
            pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
  }

  @Test
  void anAlgorithmOtherThanTheKeysIsRefused() {
    // the key fixes the algorithm: naming another one, even one the server supports, fails
    for (String alg : List.of("RS256", "ES256", "EdDSA", "ES384", "PS256", "RS512", "rs256", "es256")) {
      if (alg.equals(key.alg())) {
        continue;
      }
      assertFailure(ValidationFailure.VALIDATION_FAILURE_UNSUPPORTED_ALGORITHM,
          Tokens.sign(Tokens.header(alg, "at+jwt", key.kid()), Tokens.claims(issuer, audience), key.privateKey()));
    }
  }

  @Test
  void unknownKid() {
    for (Object kid : new Object[] {"no-such-key", null, Map.of("$ne", ""), "../../signing_keys", "a".repeat(65), 42}) {
      assertFailure(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY,
          Tokens.sign(Tokens.header(key.alg(), "at+jwt", kid), Tokens.claims(issuer, audience), key.privateKey()));
    }
  }

  @Test
  void wrongIssuer() {
    assertFailure(ValidationFailure.VALIDATION_FAILURE_WRONG_ISSUER,
        Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), Tokens.claims("https://evil.example", audience),
            key.privateKey()));
  }

  @Test
  void tokenFromAServerWithAnotherIssuerOnTheSameKeys() {
    try (TestServer other = server.sibling(b -> b.issuer("other-issuer"), Clock.systemUTC())) {
      String token = other.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
      assertFailure(ValidationFailure.VALIDATION_FAILURE_WRONG_ISSUER, token);
    }
  }

  @Test
  void wrongAudience() {
    String billing = server.auth().login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
        .setPassword(TestServer.ADMIN_PASSWORD).setAudience("billing").build()).getAccessToken();
    assertFailure(ValidationFailure.VALIDATION_FAILURE_WRONG_AUDIENCE, billing);
    ValidateResponse asBilling = server.auth().validate(
        ValidateRequest.newBuilder().setToken(billing).setAudience("billing").build());
    assertTrue(asBilling.getActive());
    String mine = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
    assertEquals(ValidationFailure.VALIDATION_FAILURE_WRONG_AUDIENCE, server.auth().validate(
        ValidateRequest.newBuilder().setToken(mine).setAudience("billing").build()).getFailure());
  }

  @Test
  void wrongType() {
    for (String typ : new String[] {"JWT", "id+jwt", null}) {
      assertFailure(ValidationFailure.VALIDATION_FAILURE_WRONG_TYPE,
          Tokens.sign(Tokens.header(key.alg(), typ, key.kid()), Tokens.claims(issuer, audience), key.privateKey()));
    }
    assertTrue(validate(Tokens.sign(Tokens.header(key.alg(), "application/AT+JWT", key.kid()),
        Tokens.claims(issuer, audience), key.privateKey())).getActive(), "RFC 9068 allows the media type form");
  }

  @Test
  void missingClaims() {
    for (String claim : List.of("exp", "sub", "jti", "iat", "username", "roles")) {
      Map<String, Object> claims = Tokens.claims(issuer, audience);
      claims.remove(claim);
      assertFailure(ValidationFailure.VALIDATION_FAILURE_MISSING_CLAIM,
          Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), claims, key.privateKey()));
    }
  }

  @Test
  void garbageAndWrongSegmentCountsAreMalformed() {
    String real = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
    String[] parts = real.split("\\.");
    for (String token : List.of("garbage", "a.b", parts[0] + "." + parts[1], real + ".extra",
        "a.b.c.d.e", "!!!.@@@.###", "e30.e30.", Tokens.encode("just a string") + "." + parts[1] + "." + parts[2],
        "...", parts[0] + ".bm90IGpzb24." + parts[2])) {
      ValidateResponse response = validate(token);
      assertFalse(response.getActive(), token);
      assertTrue(Set.of(ValidationFailure.VALIDATION_FAILURE_MALFORMED,
          ValidationFailure.VALIDATION_FAILURE_BAD_SIGNATURE).contains(response.getFailure()), token + " " + response.getFailure());
    }
    assertFailure(ValidationFailure.VALIDATION_FAILURE_MALFORMED, "garbage");
    assertFailure(ValidationFailure.VALIDATION_FAILURE_MALFORMED, "a.b");
    assertFailure(ValidationFailure.VALIDATION_FAILURE_MALFORMED, real + ".extra");
    assertFailure(ValidationFailure.VALIDATION_FAILURE_MALFORMED, "!!!.@@@.###");
  }

  @Test
  void emptyOrOversizedTokenIsInvalidArgument() {
    for (String token : List.of("", "a".repeat(8 * 1024 + 1))) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> validate(token));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    }
  }

  @Test
  void everyValidationIsAuditedWithOutcomeAndReasonButNeverTheToken() {
    String token = Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()), Map.of("exp", 1), key.privateKey());
    validate(token);
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    validate(login.getAccessToken());

    var events = server.database().getCollection("audit_events");
    Document ok = events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"),
        Filters.eq("token_id", login.getTokenId()))).first();
    assertEquals("AUDIT_OUTCOME_SUCCESS", ok.getString("outcome"));
    assertEquals(TestServer.ADMIN, ok.getString("username"));
    assertTrue(events.countDocuments(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"),
        Filters.eq("reason", "VALIDATION_FAILURE_EXPIRED"))) >= 1);
    for (Document doc : events.find()) {
      assertFalse(doc.toJson().contains(login.getAccessToken().split("\\.")[2]));
    }
  }
}
