package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateSigningKeyResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.JwkSet;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import java.security.Key;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** JWKS publication and signing key rotation. */
class SigningKeysTest {
  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start(b -> b.tokenTtl(Duration.ofMinutes(5)));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static JsonNode jwks(TestServer s) throws Exception {
    return new ObjectMapper().readTree(s.auth().getJwks(GetJwksRequest.getDefaultInstance()).getKeysJson());
  }

  private static Set<String> kids(JsonNode jwks) {
    Set<String> kids = new HashSet<>();
    jwks.get("keys").forEach(k -> kids.add(k.get("kid").asText()));
    return kids;
  }

  private KeyAdminServiceGrpc.KeyAdminServiceBlockingStub keyAdmin(String token) {
    return TestServer.withBearer(KeyAdminServiceGrpc.newBlockingStub(server.channel()), token)
        .withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private ValidationFailure failure(TestServer s, String token) {
    return s.auth().validate(ValidateRequest.newBuilder().setToken(token).build()).getFailure();
  }

  @Test
  void theJwkSetVerifiesIssuedTokensLocallyAndHoldsNoPrivatePart() throws Exception {
    String json = server.auth().getJwks(GetJwksRequest.getDefaultInstance()).getKeysJson();
    JsonNode key = new ObjectMapper().readTree(json).get("keys").get(0);
    assertEquals("RS256", key.get("alg").asText());
    assertEquals("sig", key.get("use").asText());
    assertEquals(Tokens.serverKey(server.database()).kid(), key.get("kid").asText());
    for (String secret : List.of("d", "p", "q", "dp", "dq", "qi")) {
      assertFalse(key.has(secret), "private field " + secret);
    }

    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    JwkSet set = Jwks.setParser().build().parse(json);
    Claims claims = Jwts.parser()
        .keyLocator(header -> (Key) ((PublicJwk<?>) set.getKeys().stream()
            .filter(k -> k.getId().equals(header.get("kid"))).findFirst().orElseThrow()).toKey())
        .build().parseSignedClaims(login.getAccessToken()).getPayload();
    assertEquals(login.getTokenId(), claims.getId());
  }

  @Test
  void rotationSwitchesTheSigningKeyAndTheOldOneVerifiesUntilItsTokensExpire() throws Exception {
    LoginResponse before = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    String oldKid = (String) Tokens.decodePart(before.getAccessToken(), 0).get("kid");

    RotateSigningKeyResponse rotation = keyAdmin(before.getAccessToken()).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
    assertEquals(oldKid, rotation.getRetiredKid());
    assertNotEquals(oldKid, rotation.getKid());
    assertEquals("RS256", rotation.getAlgorithm());

    LoginResponse after = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    assertEquals(rotation.getKid(), Tokens.decodePart(after.getAccessToken(), 0).get("kid"));
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, failure(server, before.getAccessToken()));
    assertEquals(Set.of(oldKid, rotation.getKid()), kids(jwks(server)));

    // past the retired key's last possible token expiry (5 min TTL + 30 s skew), on the same store
    try (TestServer later = server.sibling(b -> b, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(6)))) {
      assertEquals(Set.of(rotation.getKid()), kids(jwks(later)), "the retired key left the JWK Set");
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY, failure(later, before.getAccessToken()));
    }
  }

  @Test
  void anotherInstanceAgreesOnTheNewKey() throws Exception {
    try (TestServer other = server.sibling(b -> b, Clock.systemUTC())) {
      String admin = server.adminToken();
      RotateSigningKeyResponse rotation = keyAdmin(admin).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
      LoginResponse fromFirst = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, failure(other, fromFirst.getAccessToken()),
          "a token signed with the new key validates on the other instance at once");
      // each look is a login: one every 200 ms, as the other instance reloads its keys every 5 s
      Await.until("the other instance signs with the new key after its next reload", 15, Duration.ofMillis(200),
          () -> rotation.getKid().equals(Tokens.decodePart(
              other.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken(), 0).get("kid")));
    }
  }

  @Test
  void onlyAdminsMayRotate() {
    TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(CreateUserRequest.newBuilder()
        .setUsername("auditor-1").setPassword("auditor-1-Password").addRoles("auditor").build());
    String auditor = server.login("auditor-1", "auditor-1-Password").getAccessToken();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> keyAdmin(auditor).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance()));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertEquals(1, server.database().getCollection("signing_keys").countDocuments());
  }

  @Test
  void scheduledRotationReplacesAKeyOlderThanTheInterval() {
    dev.authservice.server.keys.SigningKeys keys = new dev.authservice.server.keys.SigningKeys(
        new KeyStoreOnTestDatabase(server).store(), Clock.offset(Clock.systemUTC(), Duration.ofDays(31)),
        dev.authservice.server.keys.SigningAlgorithm.RS256, Duration.ofMinutes(6));
    keys.loadOrCreate();
    String before = keys.current().kid();
    assertFalse(keys.rotateIfOlderThan(Duration.ofDays(60)));
    assertTrue(keys.rotateIfOlderThan(Duration.ofDays(30)));
    assertNotEquals(before, keys.current().kid());
    Document retired = server.database().getCollection("signing_keys").find(new Document("_id", before)).first();
    assertTrue(retired.getDate("verify_until") != null);
  }
}
