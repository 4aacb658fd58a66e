package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RefreshRequest;
import dev.authservice.proto.auth.v1.RefreshResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.TokenTypeHint;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Refresh with rotation and reuse detection, RFC 7009 revocation, and disabled users. */
class TokenLifecycleTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start(b -> b.refreshTokenTtl(Duration.ofHours(1)));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static LoginResponse newUserLogin(String name) {
    TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(CreateUserRequest.newBuilder()
        .setUsername(name).setPassword(name + "-Password-1").build());
    return server.login(name, name + "-Password-1");
  }

  private static RefreshResponse refresh(String token) {
    return server.auth().refresh(RefreshRequest.newBuilder().setRefreshToken(token).build());
  }

  private static ValidationFailure failure(String accessToken) {
    return server.auth().validate(ValidateRequest.newBuilder().setToken(accessToken).build()).getFailure();
  }

  private static void revoke(String token, TokenTypeHint hint) {
    server.auth().revoke(RevokeRequest.newBuilder().setToken(token).setTokenTypeHint(hint).build());
  }

  private static String sha256Hex(String s) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII)));
  }

  @Test
  void loginReturnsAnOpaqueRefreshTokenStoredOnlyAsAHash() throws Exception {
    LoginResponse login = newUserLogin("rt-store");
    byte[] raw = Base64.getUrlDecoder().decode(login.getRefreshToken());
    assertTrue(raw.length >= 32, "at least 256 random bits");
    assertTrue(login.getRefreshExpiresAt().getSeconds() > login.getExpiresAt().getSeconds());
    Document stored = server.database().getCollection("refresh_tokens")
        .find(Filters.eq("_id", sha256Hex(login.getRefreshToken()))).first();
    assertTrue(stored != null, "stored under its SHA-256");
    for (Document doc : server.database().getCollection("refresh_tokens").find()) {
      assertFalse(doc.toJson().contains(login.getRefreshToken()));
    }
  }

  @Test
  void refreshRotatesAndKeepsTheSession() {
    LoginResponse login = newUserLogin("rt-rotate");
    RefreshResponse first = refresh(login.getRefreshToken());
    assertNotEquals(login.getRefreshToken(), first.getRefreshToken());
    assertEquals("Bearer", first.getTokenType());
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, failure(first.getAccessToken()));
    RefreshResponse second = refresh(first.getRefreshToken());
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, failure(second.getAccessToken()));
    assertEquals(Tokens.decodePart(login.getAccessToken(), 1).get("sid"), Tokens.decodePart(second.getAccessToken(), 1).get("sid"));
  }

  @Test
  void reusingARefreshTokenRevokesTheWholeFamily() {
    LoginResponse login = newUserLogin("rt-reuse");
    RefreshResponse legit = refresh(login.getRefreshToken());

    StatusRuntimeException replay = assertThrows(StatusRuntimeException.class, () -> refresh(login.getRefreshToken()));
    assertEquals(Status.Code.UNAUTHENTICATED, replay.getStatus().getCode());

    StatusRuntimeException successor = assertThrows(StatusRuntimeException.class, () -> refresh(legit.getRefreshToken()));
    assertEquals(Status.Code.UNAUTHENTICATED, successor.getStatus().getCode(), "the newest token of the family dies too");
    assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, failure(login.getAccessToken()));
    assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, failure(legit.getAccessToken()));
    assertEquals(1, server.database().getCollection("audit_events").countDocuments(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_REFRESH"), Filters.eq("reason", "refresh_token_reuse"))));
    // a search for the user's events finds the theft of their session
    assertEquals(1, server.database().getCollection("audit_events").countDocuments(Filters.and(
        Filters.eq("username", "rt-reuse"), Filters.eq("reason", "refresh_token_reuse"))));

    LoginResponse otherSession = server.login("rt-reuse", "rt-reuse-Password-1");
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, failure(otherSession.getAccessToken()),
        "other sessions of the user are untouched");
  }

  @Test
  void concurrentUsesOfOneRefreshTokenLetAtMostOneThrough() throws Exception {
    LoginResponse login = newUserLogin("rt-race");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit((Callable<Boolean>) () -> {
          try {
            refresh(login.getRefreshToken());
            return true;
          } catch (StatusRuntimeException e) {
            return false;
          }
        }));
      }
      int succeeded = 0;
      for (Future<Boolean> r : results) {
        succeeded += r.get() ? 1 : 0;
      }
      assertTrue(succeeded <= 1, "succeeded " + succeeded);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void unknownMalformedAndExpiredRefreshTokensAreUnauthenticated() {
    for (String bad : List.of("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "short", "{\"$ne\":null}")) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> refresh(bad));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    }
    StatusRuntimeException empty = assertThrows(StatusRuntimeException.class, () -> refresh(""));
    assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());

    LoginResponse login = newUserLogin("rt-expire");
    try (TestServer later = server.sibling(b -> b, Clock.offset(Clock.systemUTC(), Duration.ofHours(2)))) {
      StatusRuntimeException expired = assertThrows(StatusRuntimeException.class,
          () -> later.auth().refresh(RefreshRequest.newBuilder().setRefreshToken(login.getRefreshToken()).build()));
      assertEquals(Status.Code.UNAUTHENTICATED, expired.getStatus().getCode());
    }
  }

  @Test
  void revokingAnAccessTokenDeniesItsJtiOnly() {
    LoginResponse login = newUserLogin("rv-access");
    revoke(login.getAccessToken(), TokenTypeHint.TOKEN_TYPE_HINT_UNSPECIFIED);
    assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, failure(login.getAccessToken()));
    RefreshResponse next = refresh(login.getRefreshToken());
    assertEquals(ValidationFailure.VALIDATION_FAILURE_UNSPECIFIED, failure(next.getAccessToken()));
  }

  @Test
  void revokingARefreshTokenEndsItsFamily() {
    LoginResponse login = newUserLogin("rv-refresh");
    revoke(login.getRefreshToken(), TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN);
    assertThrows(StatusRuntimeException.class, () -> refresh(login.getRefreshToken()));
    assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, failure(login.getAccessToken()));

    LoginResponse noHint = server.login("rv-refresh", "rv-refresh-Password-1");
    revoke(noHint.getRefreshToken(), TokenTypeHint.TOKEN_TYPE_HINT_UNSPECIFIED);
    assertThrows(StatusRuntimeException.class, () -> refresh(noHint.getRefreshToken()));
  }

  /**
   * A refresh record edited by hand into other types (a time typed as text, a session that is not
   * text): the token is refused as any invalid one is, never INTERNAL.
   */
  @Test
  void aRefreshRecordEditedByHandIsRefusedNotAFailure() throws Exception {
    var tokens = server.database().getCollection("refresh_tokens");
    LoginResponse expiresAsText = newUserLogin("rt-edited-time");
    tokens.updateOne(Filters.eq("_id", sha256Hex(expiresAsText.getRefreshToken())),
        com.mongodb.client.model.Updates.set("expires_at", "never"));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> refresh(expiresAsText.getRefreshToken()));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());

    LoginResponse sessionAsNumber = newUserLogin("rt-edited-session");
    tokens.updateOne(Filters.eq("_id", sha256Hex(sessionAsNumber.getRefreshToken())),
        com.mongodb.client.model.Updates.set("session", 7));
    e = assertThrows(StatusRuntimeException.class, () -> refresh(sessionAsNumber.getRefreshToken()));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    // revoking it (an unknown token now) answers as ever (RFC 7009)
    revoke(sessionAsNumber.getRefreshToken(), TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN);

    // an operator ending a session by typing its end as text: ended, not one more access token
    LoginResponse sessionEndAsText = newUserLogin("rt-edited-session-end");
    tokens.updateOne(Filters.eq("_id", sha256Hex(sessionEndAsText.getRefreshToken())),
        com.mongodb.client.model.Updates.set("session_expires_at", "2020-01-01"));
    e = assertThrows(StatusRuntimeException.class, () -> refresh(sessionEndAsText.getRefreshToken()));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
  }

  @Test
  void aSessionsRevocationLastsAsLongAsItsTokensAndRevokingAgainKeepsItsNumber() throws Exception {
    LoginResponse login = newUserLogin("rv-again");
    String session = server.database().getCollection("refresh_tokens")
        .find(Filters.eq("_id", sha256Hex(login.getRefreshToken()))).first().getString("session");
    java.time.Instant before = java.time.Instant.now();
    revoke(login.getRefreshToken(), TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN);
    java.time.Instant after = java.time.Instant.now();
    var revocations = server.database().getCollection("revocations");
    Document revoked = revocations.find(Filters.eq("_id", "session:" + session)).first();
    // the refresh lifetime (an hour here), the access token's with the skew, and a minute for a
    // racing refresh: not the session's 30 days
    Duration kept = Duration.ofHours(1).plus(server.config().tokenTtl()).plus(server.config().clockSkew())
        .plus(Duration.ofMinutes(1));
    java.time.Instant expires = revoked.getDate("expires_at").toInstant();
    assertTrue(!expires.isBefore(before.plus(kept).minusMillis(1)) && !expires.isAfter(after.plus(kept)),
        "kept until " + expires + ", revoked at " + before);
    long seq = ((Number) revoked.get("seq")).longValue();
    long counter = revocationCounter();

    // again and again, a double-clicked logout: no new number (a new one would overwrite this
    // one, and every instance would wait for the lost number as a gap, then warn)
    revoke(login.getRefreshToken(), TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN);
    revoke(login.getRefreshToken(), TokenTypeHint.TOKEN_TYPE_HINT_UNSPECIFIED);
    revoke(login.getAccessToken(), TokenTypeHint.TOKEN_TYPE_HINT_ACCESS_TOKEN);
    revoke(login.getAccessToken(), TokenTypeHint.TOKEN_TYPE_HINT_ACCESS_TOKEN);
    assertEquals(seq, ((Number) revocations.find(Filters.eq("_id", "session:" + session)).first().get("seq")).longValue());
    assertEquals(counter + 1, revocationCounter(), "only the access token's first revocation takes a number");
    assertTrue(revocations.find(Filters.eq("_id", "session:" + session)).first().getDate("expires_at").toInstant()
        .isAfter(expires), "a later revocation of the same session extends it");
    assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, failure(login.getAccessToken()));
    assertThrows(StatusRuntimeException.class, () -> refresh(login.getRefreshToken()));
  }

  @Test
  void aSessionsRevocationOutlivesItsTokensWhenTheRefreshLifetimeWasLoweredSince() throws Exception {
    // issued with this server's hour; revoked by an instance whose refresh tokens last a minute
    LoginResponse login = newUserLogin("rv-lowered");
    Document record = server.database().getCollection("refresh_tokens")
        .find(Filters.eq("_id", sha256Hex(login.getRefreshToken()))).first();
    java.time.Instant tokenExpires = record.getDate("expires_at").toInstant();
    try (TestServer lowered = server.sibling(b -> b.refreshTokenTtl(Duration.ofMinutes(1)), Clock.systemUTC())) {
      lowered.auth().revoke(RevokeRequest.newBuilder().setToken(login.getRefreshToken())
          .setTokenTypeHint(TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN).build());
    }
    java.time.Instant kept = server.database().getCollection("revocations")
        .find(Filters.eq("_id", "session:" + record.getString("session"))).first().getDate("expires_at").toInstant();
    assertTrue(!kept.isBefore(tokenExpires.plus(server.config().tokenTtl())),
        "the revocation ends at " + kept + ", its refresh token lives until " + tokenExpires);
  }

  private static long revocationCounter() {
    return ((Number) server.database().getCollection("sequences").find(Filters.eq("_id", "revocations")).first()
        .get("seq")).longValue();
  }

  @Test
  void revokingUnknownOrInvalidTokensIsStillOk() {
    long before = server.database().getCollection("revocations").countDocuments();
    revoke("not-a-token", TokenTypeHint.TOKEN_TYPE_HINT_UNSPECIFIED);
    revoke("a.b.c", TokenTypeHint.TOKEN_TYPE_HINT_ACCESS_TOKEN);
    Tokens.ServerKey key = Tokens.serverKey(server.database());
    String forged = Tokens.sign(Tokens.header(key.alg(), "at+jwt", key.kid()),
        Tokens.claims(server.config().issuer(), server.config().defaultAudience()),
        Tokens.otherKeyPair(key.alg()).getPrivate());
    revoke(forged, TokenTypeHint.TOKEN_TYPE_HINT_ACCESS_TOKEN);
    assertEquals(before, server.database().getCollection("revocations").countDocuments(),
        "a token that is not ours revokes nothing");
    StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
        () -> revoke("", TokenTypeHint.TOKEN_TYPE_HINT_UNSPECIFIED));
    assertEquals(Status.Code.INVALID_ARGUMENT, empty.getStatus().getCode());
  }

  @Test
  void disablingAUserEndsTheUsersTokensAndRefreshFamilies() {
    LoginResponse login = newUserLogin("dis-user");
    LoginResponse second = server.login("dis-user", "dis-user-Password-1");
    TestServer.withBearer(server.userAdmin(), server.adminToken())
        .disableUser(DisableUserRequest.newBuilder().setUsername("dis-user").build());
    assertEquals(ValidationFailure.VALIDATION_FAILURE_USER_DISABLED, failure(login.getAccessToken()));
    assertEquals(ValidationFailure.VALIDATION_FAILURE_USER_DISABLED, failure(second.getAccessToken()));
    for (String refreshToken : List.of(login.getRefreshToken(), second.getRefreshToken())) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> refresh(refreshToken));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    }
  }
}
