package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Struct;
import com.google.rpc.Code;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * envoy.service.auth.v3.Authorization/Check on the real server, with CheckRequests as Envoy builds
 * them: the answers Envoy acts on (status, HTTP status, headers, metadata), the events, and the
 * attacks on the header handling.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExtAuthzTest {
  static final String CHECK = AuthorizationGrpc.getCheckMethod().getFullMethodName();

  private final MutableClock clock = new MutableClock();
  private TestServer server;
  private AuthorizationGrpc.AuthorizationBlockingStub envoy;

  @BeforeAll
  void start() {
    server = TestServer.start(b -> b, clock);
    envoy = EnvoyChecks.stub(server);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private CheckResponse check(EnvoyChecks.Request request) {
    return envoy.check(request.build());
  }

  private static void assertDenied(CheckResponse response, int rpcCode, StatusCode http, String failure) {
    assertEquals(rpcCode, response.getStatus().getCode(), "status: " + response.getStatus());
    assertTrue(response.hasDeniedResponse(), "a denied response");
    assertEquals(http, response.getDeniedResponse().getStatus().getCode(), "the HTTP status is always set");
    assertEquals(failure, EnvoyChecks.deniedHeader(response, "x-auth-failure"));
  }

  /** A 401 for an inactive token: RFC 6750's invalid_token challenge and the reason header. */
  private void assertInvalidToken(CheckResponse response, String failure) {
    assertDenied(response, Code.UNAUTHENTICATED_VALUE, StatusCode.Unauthorized, failure);
    String challenge = EnvoyChecks.deniedHeader(response, "www-authenticate");
    assertTrue(challenge != null && challenge.startsWith("Bearer realm=\"" + server.config().issuer()
        + "\", error=\"invalid_token\""), "challenge: " + challenge);
  }

  private List<Document> checkEvents(String tokenId) {
    return server.database().getCollection("audit_events")
        .find(Filters.and(Filters.eq("token_id", tokenId), Filters.eq("rpc_method", CHECK))).into(new java.util.ArrayList<>());
  }

  @Test
  void anActiveTokenPassesWithItsClaimsAsHeadersAndMetadataAndOneEvent() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    EnvoyChecks.Request request = EnvoyChecks.get("/orders/17").bearer(login.getAccessToken());
    CheckResponse response = check(request);

    assertEquals(Code.OK_VALUE, response.getStatus().getCode());
    assertTrue(response.hasOkResponse());
    Map<String, List<String>> upstream = EnvoyChecks.upstreamHeaders(request.headers(), response);
    Struct claims = response.getDynamicMetadata();
    String subject = claims.getFieldsOrThrow("sub").getStringValue();
    assertFalse(subject.isEmpty());
    assertEquals(List.of(subject), upstream.get("x-auth-subject"));
    assertEquals(List.of(TestServer.ADMIN), upstream.get("x-auth-username"));
    assertEquals(List.of("admin"), upstream.get("x-auth-roles"));
    assertEquals(List.of("Bearer " + login.getAccessToken()), upstream.get("authorization"),
        "kept unless AUTH_EXT_AUTHZ_REMOVE_AUTHORIZATION");
    assertEquals(TestServer.ADMIN, claims.getFieldsOrThrow("username").getStringValue());
    assertEquals(login.getTokenId(), claims.getFieldsOrThrow("jti").getStringValue());
    assertEquals("admin", claims.getFieldsOrThrow("roles").getListValue().getValues(0).getStringValue());
    assertEquals(server.config().defaultAudience(),
        claims.getFieldsOrThrow("aud").getListValue().getValues(0).getStringValue());
    assertEquals(login.getExpiresAt().getSeconds(), (long) claims.getFieldsOrThrow("exp").getNumberValue());
    assertEquals(server.config().issuer(), claims.getFieldsOrThrow("iss").getStringValue());

    List<Document> events = checkEvents(login.getTokenId());
    assertEquals(1, events.size(), "one event per Check");
    assertEquals("AUDIT_EVENT_TYPE_TOKEN_VALIDATE", events.get(0).getString("type"));
    assertEquals("AUDIT_OUTCOME_SUCCESS", events.get(0).getString("outcome"));
    assertEquals(TestServer.ADMIN, events.get(0).getString("username"));
  }

  @Test
  void noTokenIs401WithAChallengeWithoutAnErrorCode() {
    for (EnvoyChecks.Request request : List.of(EnvoyChecks.get("/orders"),
        EnvoyChecks.get("/orders").header("authorization", "Basic YWxpY2U6c2VjcmV0"))) {
      CheckResponse response = check(request);
      assertDenied(response, Code.UNAUTHENTICATED_VALUE, StatusCode.Unauthorized, "MISSING_TOKEN");
      // RFC 6750 §3.1: a request without credentials gets no error code
      assertEquals("Bearer realm=\"" + server.config().issuer() + "\"",
          EnvoyChecks.deniedHeader(response, "www-authenticate"));
      assertFalse(response.hasOkResponse());
    }
  }

  @Test
  void anExpiredTokenIs401InvalidToken() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    assertEquals(Code.OK_VALUE, check(EnvoyChecks.get("/").bearer(login.getAccessToken())).getStatus().getCode());
    clock.advance(server.config().tokenTtl().plus(server.config().clockSkew()).plus(Duration.ofSeconds(1)));

    CheckResponse response = check(EnvoyChecks.get("/").bearer(login.getAccessToken()));
    assertInvalidToken(response, "EXPIRED");
    String challenge = EnvoyChecks.deniedHeader(response, "www-authenticate");
    assertTrue(challenge.startsWith("Bearer realm=\"auth-service\", error=\"invalid_token\", error_description=\""),
        challenge);
    assertEquals("AUDIT_OUTCOME_FAILURE", checkEvents(login.getTokenId()).stream()
        .filter(e -> "VALIDATION_FAILURE_EXPIRED".equals(e.getString("reason"))).findFirst().orElseThrow()
        .getString("outcome"));
  }

  @Test
  void aRevokedTokenIs401() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    server.auth().revoke(RevokeRequest.newBuilder().setToken(login.getAccessToken()).build());
    assertInvalidToken(check(EnvoyChecks.get("/").bearer(login.getAccessToken())), "REVOKED");
  }

  @Test
  void aTamperedTokenIs401() {
    String token = server.adminToken();
    String[] parts = token.split("\\.");
    Map<String, Object> claims = Tokens.decodePart(token, 1);
    claims.put("roles", List.of("admin", "superuser"));
    assertInvalidToken(check(EnvoyChecks.get("/").bearer(parts[0] + "." + Tokens.encode(claims) + "." + parts[2])),
        "BAD_SIGNATURE");
  }

  @Test
  void aCheckWithoutHttpAttributesIsDeniedNotAnError() {
    // Envoy's network (TCP) ext_authz filter sends no HTTP request: no token can be in it
    for (CheckRequest request : List.of(CheckRequest.getDefaultInstance(), CheckRequest.newBuilder()
        .setAttributes(EnvoyChecks.get("/").build().getAttributes().toBuilder().clearRequest()).build())) {
      CheckResponse response = envoy.check(request);
      assertDenied(response, Code.UNAUTHENTICATED_VALUE, StatusCode.Unauthorized, "MISSING_TOKEN");
    }
  }

  @Test
  void headerNamesAndTheSchemeAreReadInAnyCase() {
    String token = server.adminToken();
    for (String name : List.of("Authorization", "AUTHORIZATION", "aUtHoRiZaTiOn")) {
      CheckResponse response = check(EnvoyChecks.get("/").header(name, "bearer " + token));
      assertEquals(Code.OK_VALUE, response.getStatus().getCode(), name);
    }
    assertEquals(Code.OK_VALUE, check(EnvoyChecks.get("/").rawHeader("Authorization", "BEARER " + token))
        .getStatus().getCode(), "in header_map (encode_raw_headers)");
  }

  @Test
  void severalAuthorizationValuesAreRefusedNotGuessedAt() {
    String mine = server.adminToken();
    String other = server.adminToken();
    List<EnvoyChecks.Request> attempts = List.of(
        // Envoy joins a repeated header with commas in the headers map
        EnvoyChecks.get("/").header("authorization", "Bearer " + mine + ", Bearer " + other),
        EnvoyChecks.get("/").header("authorization", "Bearer " + mine + ",garbage"),
        // two names differing in case: two headers
        EnvoyChecks.get("/").header("authorization", "Bearer " + mine).header("Authorization", "Bearer " + other),
        // header_map keeps repeated headers apart
        EnvoyChecks.get("/").rawHeader("authorization", "Bearer " + mine).rawHeader("authorization", "Bearer " + other));
    for (EnvoyChecks.Request attempt : attempts) {
      CheckResponse response = check(attempt);
      assertDenied(response, Code.INVALID_ARGUMENT_VALUE, StatusCode.BadRequest, "SEVERAL_AUTHORIZATION_VALUES");
      assertTrue(EnvoyChecks.deniedHeader(response, "www-authenticate").contains("error=\"invalid_request\""));
    }
    assertDenied(check(EnvoyChecks.get("/").header("authorization", "Bearer " + mine + " extra")),
        Code.INVALID_ARGUMENT_VALUE, StatusCode.BadRequest, "MALFORMED_AUTHORIZATION");
  }

  @Test
  void hugeHeadersAreBoundedByTheMessageLimit() {
    String token = server.adminToken();
    int limit = server.config().maxInboundMessageBytes();
    // big but within the limit: answered as usual
    CheckResponse within = check(EnvoyChecks.get("/").bearer(token).header("cookie", "a".repeat(limit / 2)));
    assertEquals(Code.OK_VALUE, within.getStatus().getCode());
    // a token of half the limit is no token of ours: refused on its length, before any parsing
    assertDenied(check(EnvoyChecks.get("/").bearer("a".repeat(limit / 2))), Code.UNAUTHENTICATED_VALUE,
        StatusCode.Unauthorized, "MALFORMED");
    // past the limit: the transport refuses the message before it is parsed
    StatusRuntimeException tooBig = assertThrows(StatusRuntimeException.class,
        () -> check(EnvoyChecks.get("/").bearer(token).header("cookie", "a".repeat(limit + 1))));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, tooBig.getStatus().getCode());
    assertEquals(Code.OK_VALUE, check(EnvoyChecks.get("/").bearer(token)).getStatus().getCode(), "still serving");
  }

  @Test
  void clientSentAuthHeadersNeverReachTheUpstreamAsOurs() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    EnvoyChecks.Request request = EnvoyChecks.get("/").bearer(login.getAccessToken())
        .header("x-auth-subject", "someone-else")
        .header("X-Auth-Roles", "superuser")
        .header("x-auth-username", "mallory")
        .header("x-auth-tenant", "other-tenant")
        .header("X-AUTH-FAILURE", "none");
    CheckResponse response = check(request);
    assertEquals(Code.OK_VALUE, response.getStatus().getCode());
    Map<String, List<String>> upstream = EnvoyChecks.upstreamHeaders(request.headers(), response);
    assertEquals(List.of(response.getDynamicMetadata().getFieldsOrThrow("sub").getStringValue()),
        upstream.get("x-auth-subject"), "ours alone, the client's replaced");
    assertEquals(List.of("admin"), upstream.get("x-auth-roles"));
    assertEquals(List.of(TestServer.ADMIN), upstream.get("x-auth-username"));
    assertNull(upstream.get("x-auth-tenant"), "an x-auth-* header we do not set is removed");
    assertNull(upstream.get("x-auth-failure"));
    response.getOkResponse().getHeadersList().forEach(h -> assertFalse(
        response.getOkResponse().getHeadersToRemoveList().contains(h.getHeader().getKey()),
        "Envoy removes after it sets: our own names must not be removed"));
  }

  @Test
  void aUserWithoutRolesPassesNoRolesHeaderNotTheClients() {
    TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(
        dev.authservice.proto.auth.v1.CreateUserRequest.newBuilder().setUsername("norole")
            .setPassword("norole-Password-1").build());
    LoginResponse login = server.login("norole", "norole-Password-1");
    EnvoyChecks.Request request = EnvoyChecks.get("/").bearer(login.getAccessToken()).header("X-Auth-Roles", "admin");
    CheckResponse response = check(request);
    assertEquals(Code.OK_VALUE, response.getStatus().getCode());
    // an empty value may not be set by Envoy (keep_empty_value is off): it would leave the client's in place
    assertTrue(response.getOkResponse().getHeadersList().stream()
        .noneMatch(h -> h.getHeader().getKey().equals("x-auth-roles")), "no empty roles header is set");
    assertTrue(response.getOkResponse().getHeadersToRemoveList().contains("x-auth-roles"));
    assertNull(EnvoyChecks.upstreamHeaders(request.headers(), response).get("x-auth-roles"));
  }

  @Test
  void theCallersReportOfTheDownstreamIsIgnoredFromAnUntrustedCaller() {
    LoginResponse login = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    check(EnvoyChecks.get("/").bearer(login.getAccessToken())
        .source("203.0.113.66", "spiffe://cluster.local/ns/shop/sa/forged"));
    Document event = checkEvents(login.getTokenId()).get(0);
    assertEquals("127.0.0.1", event.getString("client_ip"), "the connection's address, not the reported one");
    assertNull(event.getString("peer_identity"));
  }

  @Test
  void theTraceIdOfTheHttpRequestIsRecordedOnTheChecksEvent() {
    // Envoy passes the client's traceparent among the request headers (it does not trace the Check
    // call itself here): the event joins the trace of the HTTP request it decided about
    String traceId = "0af7651916cd43dd8448eb211c80319c";
    LoginResponse traced = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    assertEquals(Code.OK_VALUE, check(EnvoyChecks.get("/orders").bearer(traced.getAccessToken())
        .header("traceparent", "00-" + traceId + "-b7ad6b7169203331-01")).getStatus().getCode());
    assertEquals(traceId, checkEvents(traced.getTokenId()).get(0).getString("trace_id"));

    // a malformed one, or two (a joined value), names no trace: none is recorded, none invented
    LoginResponse untraced = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
    check(EnvoyChecks.get("/").bearer(untraced.getAccessToken()).header("traceparent", "00-not-a-trace-01"));
    check(EnvoyChecks.get("/").bearer(untraced.getAccessToken()).rawHeader("traceparent",
        "00-" + traceId + "-b7ad6b7169203331-01").rawHeader("traceparent", "00-" + "1".repeat(32) + "-b7ad6b7169203331-01"));
    List<Document> events = checkEvents(untraced.getTokenId());
    assertEquals(2, events.size());
    events.forEach(e -> assertNull(e.getString("trace_id"), "no trace id from a malformed or repeated traceparent"));
  }
}
