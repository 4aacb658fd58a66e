package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.type.v3.StatusCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Check with AUTH_EXT_AUTHZ_TOKEN_COOKIE set, on the real server, with CheckRequests carrying
 * {@code cookie} headers as Envoy sends them: where the token is found, what is refused, and what the
 * 401s say (the three cases, in the challenge and in the JSON body a browser client shows).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExtAuthzCookieTest {
  private static final String COOKIE = "access_token";

  private final MutableClock clock = new MutableClock();
  private TestServer server;
  private AuthorizationGrpc.AuthorizationBlockingStub envoy;

  @BeforeAll
  void start() {
    server = TestServer.start(b -> b.extAuthz(ExtAuthzSettings.DEFAULTS.withTokenCookie(Optional.of(COOKIE))), clock);
    envoy = EnvoyChecks.stub(server);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private CheckResponse check(EnvoyChecks.Request request) {
    return envoy.check(request.build());
  }

  private static EnvoyChecks.Request withCookie(String cookieHeader) {
    return EnvoyChecks.get("/orders").header("cookie", cookieHeader);
  }

  private static void assertAllowed(CheckResponse response, String what) {
    assertEquals(Code.OK_VALUE, response.getStatus().getCode(), what + ": " + response.getStatus());
    assertTrue(response.hasOkResponse(), what);
  }

  private static void assertDenied(CheckResponse response, int rpcCode, StatusCode http, String failure, String message) {
    assertEquals(rpcCode, response.getStatus().getCode(), "status: " + response.getStatus());
    assertEquals(http, response.getDeniedResponse().getStatus().getCode());
    assertEquals(failure, EnvoyChecks.deniedHeader(response, "x-auth-failure"));
    assertEquals("application/json", EnvoyChecks.deniedHeader(response, "content-type"));
    assertEquals("{\"message\": \"" + message + "\"}\n", response.getDeniedResponse().getBody());
  }

  /** A 401 for an inactive token: the body's message and the challenge's description. */
  private void assertInactive(CheckResponse response, String failure, String message, String description) {
    assertDenied(response, Code.UNAUTHENTICATED_VALUE, StatusCode.Unauthorized, failure, message);
    assertEquals("Bearer realm=\"" + server.config().issuer() + "\", error=\"invalid_token\", error_description=\""
        + description + "\"", EnvoyChecks.deniedHeader(response, "www-authenticate"));
  }

  @Test
  void theTokenIsTakenFromTheCookieAmongOthers() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    String token = login.getAccessToken();
    assertAllowed(check(withCookie(COOKIE + "=" + token)), "alone");
    assertAllowed(check(withCookie("theme=dark; " + COOKIE + "=" + token + "; lang=en")), "among others in one header");
    assertAllowed(check(withCookie("theme=dark;" + COOKIE + " = \"" + token + "\" ;lang=en")), "quoted, with spaces");
    // two header lines: Envoy joins them with a comma in its headers map, keeps them apart in header_map
    assertAllowed(check(withCookie("theme=dark, " + COOKIE + "=" + token)), "joined with a comma");
    assertAllowed(check(EnvoyChecks.get("/").rawHeader("Cookie", "theme=dark").rawHeader("cookie", COOKIE + "=" + token)),
        "the second of two header lines");
    CheckResponse response = check(withCookie("theme=dark; " + COOKIE + "=" + token));
    assertEquals(TestServer.ADMIN, response.getDynamicMetadata().getFieldsOrThrow("username").getStringValue());
  }

  @Test
  void noCookieOrAnotherNameIsNoToken() {
    String token = server.adminToken();
    for (EnvoyChecks.Request request : List.of(EnvoyChecks.get("/"), withCookie("theme=dark; lang=en"),
        withCookie("Access_Token=" + token), // names are case-sensitive
        withCookie("access_token_old=" + token), withCookie("my_access_token=" + token), // whole names only
        withCookie("theme=" + COOKIE + "=" + token), // our name inside another cookie's value
        withCookie(COOKIE + "="), withCookie(COOKIE + "=\"\""))) { // cleared
      CheckResponse response = check(request);
      assertDenied(response, Code.UNAUTHENTICATED_VALUE, StatusCode.Unauthorized, "MISSING_TOKEN", "Missing token");
      assertEquals("Bearer realm=\"" + server.config().issuer() + "\"",
          EnvoyChecks.deniedHeader(response, "www-authenticate"));
    }
  }

  @Test
  void ourCookieTwiceIsRefusedNotGuessedAt() {
    String mine = server.adminToken();
    String other = server.adminToken();
    List<EnvoyChecks.Request> attempts = List.of(
        withCookie(COOKIE + "=" + mine + "; " + COOKIE + "=" + other),
        withCookie(COOKIE + "=" + mine + "; theme=dark; " + COOKIE + "=" + mine), // even the same value
        withCookie(COOKIE + "=" + mine + ", " + COOKIE + "=" + other), // two lines joined by Envoy
        withCookie(COOKIE + "=" + mine + "; " + COOKIE + "="), // one of them empty
        EnvoyChecks.get("/").rawHeader("cookie", COOKIE + "=" + mine).rawHeader("Cookie", COOKIE + "=" + other),
        EnvoyChecks.get("/").header("cookie", COOKIE + "=" + mine).header("Cookie", COOKIE + "=" + other));
    for (EnvoyChecks.Request attempt : attempts) {
      CheckResponse response = check(attempt);
      assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode(), "status: " + response.getStatus());
      assertEquals(StatusCode.BadRequest, response.getDeniedResponse().getStatus().getCode());
      assertEquals("SEVERAL_TOKEN_COOKIES", EnvoyChecks.deniedHeader(response, "x-auth-failure"));
      assertTrue(EnvoyChecks.deniedHeader(response, "www-authenticate").contains("error=\"invalid_request\""));
      assertTrue(response.getDeniedResponse().getBody().startsWith("{\"message\": \""));
    }
  }

  @Test
  void theAuthorizationHeaderWinsOverTheCookie() {
    String token = server.adminToken();
    // a valid header and a cookie that would be refused: the cookie is not read at all
    assertAllowed(check(EnvoyChecks.get("/").bearer(token).header("cookie", COOKIE + "=garbage; " + COOKIE + "=x")),
        "header with a duplicated cookie");
    // and the other way round: the header's verdict stands, the valid cookie does not rescue it
    assertDenied(check(EnvoyChecks.get("/").header("authorization", "Basic YWxpY2U6c2VjcmV0")
        .header("cookie", COOKIE + "=" + token)), Code.UNAUTHENTICATED_VALUE, StatusCode.Unauthorized,
        "MISSING_TOKEN", "Missing token");
  }

  @Test
  void anExpiredCookieIsExpiredNeverInvalid() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    assertAllowed(check(withCookie(COOKIE + "=" + login.getAccessToken())), "fresh");
    clock.advance(server.config().tokenTtl().plus(server.config().clockSkew()).plus(Duration.ofSeconds(1)));
    assertInactive(check(withCookie(COOKIE + "=" + login.getAccessToken())), "EXPIRED", "Expired token",
        "The access token expired");
    // the same from the header
    assertInactive(check(EnvoyChecks.get("/").bearer(login.getAccessToken())), "EXPIRED", "Expired token",
        "The access token expired");
  }

  @Test
  void aTamperedCookieIsInvalidNeverExpired() {
    String token = server.adminToken();
    String[] parts = token.split("\\.");
    Map<String, Object> claims = Tokens.decodePart(token, 1);
    claims.put("roles", List.of("admin", "superuser"));
    String tampered = parts[0] + "." + Tokens.encode(claims) + "." + parts[2];
    assertInactive(check(withCookie(COOKIE + "=" + tampered)), "BAD_SIGNATURE", "Invalid token",
        "The access token is invalid");
    // not even a token's syntax: invalid too (a 401 a browser client acts on, not a 400)
    assertInactive(check(withCookie(COOKIE + "=not a token!")), "MALFORMED", "Invalid token",
        "The access token is invalid");
  }

  @Test
  void aRevokedCookieIsRevokedInTheChallengeAndInvalidInTheBody() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    server.auth().revoke(RevokeRequest.newBuilder().setToken(login.getAccessToken()).build());
    assertInactive(check(withCookie("theme=dark; " + COOKIE + "=" + login.getAccessToken())), "REVOKED",
        "Invalid token", "The access token was revoked");
  }

  @Test
  void otherDenialsHaveAJsonBodyToo() {
    CheckResponse several = check(EnvoyChecks.get("/").header("authorization", "Bearer a, Bearer b"));
    assertEquals("application/json", EnvoyChecks.deniedHeader(several, "content-type"));
    assertEquals("{\"message\": \"send exactly one Authorization header holding one bearer token\"}\n",
        several.getDeniedResponse().getBody());
  }

  @Test
  void theCookieValueIsNeverLoggedNorAudited() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    String token = login.getAccessToken();
    String garbage = "s3cret-cookie-value-0123456789";
    List<String> secrets = List.of(token, token.substring(token.lastIndexOf('.') + 1), garbage);
    try (LogCapture log = LogCapture.server()) {
      check(withCookie(COOKIE + "=" + token));
      check(withCookie(COOKIE + "=" + token + "; " + COOKIE + "=" + garbage));
      check(withCookie(COOKIE + "=" + garbage));
      check(withCookie(COOKIE + "=\"" + garbage + "!\""));
      server.auth().revoke(RevokeRequest.newBuilder().setToken(token).build());
      check(withCookie(COOKIE + "=" + token));
      clock.advance(server.config().tokenTtl().plus(server.config().clockSkew()).plus(Duration.ofSeconds(1)));
      check(withCookie(COOKIE + "=" + token));
      for (String secret : secrets) {
        assertFalse(log.contains(secret), "the cookie value is not logged");
      }
    }
    List<Document> events = server.database().getCollection("audit_events")
        .find(Filters.eq("rpc_method", ExtAuthzTest.CHECK)).into(new ArrayList<>());
    assertTrue(events.stream().anyMatch(e -> login.getTokenId().equals(e.getString("token_id"))),
        "the Checks were audited");
    for (Document event : events) {
      String json = event.toJson();
      for (String secret : secrets) {
        assertFalse(json.contains(secret), "the cookie value is not in the audit event " + json);
      }
    }
  }

  @Test
  void aCookieNameThatNoCookieCanHaveIsASettingsError() {
    // a name with a separator could never match a pair, and one with '=' would split a pair elsewhere
    for (String bad : List.of("", "access token", "a;b", "a=b", "a,b", "\"a\"", "x".repeat(129), "jéton")) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
          () -> ExtAuthzSettings.DEFAULTS.withTokenCookie(Optional.of(bad)), bad);
      assertTrue(error.getMessage().contains("AUTH_EXT_AUTHZ_TOKEN_COOKIE"));
    }
    assertEquals(Optional.of("__Host-access_token"),
        ExtAuthzSettings.DEFAULTS.withTokenCookie(Optional.of("__Host-access_token")).tokenCookie());
  }
}
