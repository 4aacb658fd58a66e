package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The admin listener: /metrics scraped before and after known calls moves exactly by them, and
 * /health/ready follows the store (the same StoreHealth as gRPC health) while /health/live stays up.
 */
class ObservabilityTest {
  private static final String STRANGER = "no-such-user-5e1f";
  private static final String STUFFED = "stuffed-user-9d2e-";
  private static final String ENVOY_SOURCE = "198.51.100.77";
  private static final String ENVOY_PRINCIPAL = "spiffe://cluster.local/ns/shop/sa/frontend-4f2a";
  private static final String SECRET_PATH = "/orders/7e3b-private";
  private static final String MADE_UP_METHOD = "Probe7c41";
  private static final io.grpc.MethodDescriptor.Marshaller<byte[]> RAW = new io.grpc.MethodDescriptor.Marshaller<>() {
    @Override
    public java.io.InputStream stream(byte[] value) {
      return new java.io.ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(java.io.InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  };
  private final HttpClient http = HttpClient.newHttpClient();

  private static TestServer start(MutableClock clock) {
    return TestServer.start(b -> b.http(HttpSettings.OFF.withAdminPort(OptionalInt.of(0))), clock);
  }

  @Test
  void theCountersMoveByExactlyTheCallsMade() throws Exception {
    MutableClock clock = new MutableClock(Instant.now());
    try (TestServer server = start(clock)) {
      Map<String, Double> before = scrape(server);

      LoginResponse first = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      LoginResponse second = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      for (int i = 0; i < 2; i++) {
        assertThrows(StatusRuntimeException.class, () -> server.login(TestServer.ADMIN, "wrong-Password-1"));
      }
      assertThrows(StatusRuntimeException.class, () -> server.login(STRANGER, "wrong-Password-1"));
      assertTrue(validate(server, first.getAccessToken()).getActive());
      assertTrue(validate(server, second.getAccessToken()).getActive());
      clock.advance(server.config().tokenTtl().plus(server.config().clockSkew()).plusMinutes(1));
      assertEquals(ValidationFailure.VALIDATION_FAILURE_EXPIRED, validate(server, first.getAccessToken()).getFailure());
      String auditor = server.adminToken();
      TestServer.withBearer(server.auth(), auditor).queryAudit(QueryAuditRequest.newBuilder().setPageSize(1).build());

      String text = scrapeText(server);
      Map<String, Double> after = parse(text);
      assertEquals(3, delta(before, after, "auth_logins_total{outcome=\"success\",reason=\"none\"}"));
      assertEquals(2, delta(before, after, "auth_logins_total{outcome=\"failure\",reason=\"bad_password\"}"));
      assertEquals(1, delta(before, after, "auth_logins_total{outcome=\"failure\",reason=\"unknown_user\"}"));
      assertEquals(2, delta(before, after, "auth_validations_total{outcome=\"active\",reason=\"none\",via=\"validate\"}"));
      assertEquals(1, delta(before, after,
          "auth_validations_total{outcome=\"inactive\",reason=\"VALIDATION_FAILURE_EXPIRED\",via=\"validate\"}"));
      assertEquals(1, delta(before, after,
          "grpc_server_call_started_total{grpc_method=\"auth.v1.AuthService/QueryAudit\"}"));
      assertEquals(6, delta(before, after, "grpc_server_call_started_total{grpc_method=\"auth.v1.AuthService/Login\"}"));
      // events: two per successful login (LOGIN, TOKEN_ISSUE), one per failure, validation and query
      assertEquals(3 * 2 + 3 + 3 + 1, delta(before, after, "auth_audit_events_written_total{destination=\"store\"}"));
      assertEquals(13, delta(before, after, "auth_audit_write_duration_seconds_count{destination=\"store\"}"));
      assertEquals(0, after.get("auth_audit_spool_depth"));
      assertTrue(after.containsKey("auth_audit_queue_depth"), text);
      assertTrue(after.containsKey("auth_audit_checkpoint_age_seconds"), text);
      assertTrue(after.get("auth_signing_key_age_seconds{use=\"token\"}") >= 60, "the clock moved: " + text);
      assertTrue(after.containsKey("auth_signing_key_age_seconds{use=\"audit\"}"), text);
      assertTrue(text.contains("grpc_server_call_duration_seconds_bucket"), text);
      // no username, token or address as a label
      for (String secret : new String[] {STRANGER, TestServer.ADMIN_PASSWORD, first.getTokenId(),
          first.getAccessToken().substring(0, 20), "127.0.0.1"}) {
        assertFalse(text.contains(secret), "the scrape holds " + secret);
      }
    }
  }

  @Test
  void checksAndReviewAlertsAreCountedAndNoCallerDetailBecomesALabel() throws Exception {
    MutableClock clock = new MutableClock(Instant.now());
    try (TestServer server = start(clock)) {
      Instant from = clock.instant().minusSeconds(60);
      String token = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
      Map<String, Double> before = scrape(server);

      // Envoy's Check, as Envoy sends it: one active token, one request without any
      var envoy = EnvoyChecks.stub(server);
      assertEquals(com.google.rpc.Code.OK_VALUE, envoy.check(EnvoyChecks.get(SECRET_PATH).bearer(token)
          .source(ENVOY_SOURCE, ENVOY_PRINCIPAL).build()).getStatus().getCode());
      assertEquals(com.google.rpc.Code.UNAUTHENTICATED_VALUE, envoy.check(EnvoyChecks.get(SECRET_PATH)
          .source(ENVOY_SOURCE, ENVOY_PRINCIPAL).build()).getStatus().getCode());
      // credential stuffing: five made-up usernames failing from one address within five minutes
      for (int i = 0; i < 5; i++) {
        String username = STUFFED + i;
        assertThrows(StatusRuntimeException.class, () -> server.login(username, "wrong-Password-1"));
      }
      // a raw client calling a method nobody serves, its name chosen by the caller: it must not become a series
      assertThrows(StatusRuntimeException.class, () -> io.grpc.stub.ClientCalls.blockingUnaryCall(server.channel(),
          io.grpc.MethodDescriptor.<byte[], byte[]>newBuilder().setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName("auth.v1.AuthService/" + MADE_UP_METHOD)
              .setRequestMarshaller(RAW).setResponseMarshaller(RAW).build(),
          io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS), new byte[0]));
      var alerts = TestServer.withBearer(server.auth(), token).runReview(
          dev.authservice.proto.auth.v1.RunReviewRequest.newBuilder().setStartTime(ts(from))
              .setEndTime(ts(clock.instant().plusSeconds(60))).build()).getAlertsList();

      String text = scrapeText(server);
      Map<String, Double> after = parse(text);
      assertEquals(1, delta(before, after, "auth_validations_total{outcome=\"active\",reason=\"none\",via=\"check\"}"));
      assertEquals(1, delta(before, after,
          "auth_validations_total{outcome=\"inactive\",reason=\"no_bearer_token\",via=\"check\"}"));
      assertEquals(0, after.getOrDefault("auth_validations_total{outcome=\"active\",reason=\"none\",via=\"validate\"}",
          0.0) - before.getOrDefault("auth_validations_total{outcome=\"active\",reason=\"none\",via=\"validate\"}", 0.0),
          "a Check is not counted as a Validate");
      assertEquals(2, delta(before, after,
          "grpc_server_call_started_total{grpc_method=\"envoy.service.auth.v3.Authorization/Check\"}"));
      assertEquals(5, delta(before, after, "auth_logins_total{outcome=\"failure\",reason=\"unknown_user\"}"));
      assertTrue(alerts.stream().anyMatch(a -> a.getAlert().getRule().equals("CREDENTIAL_STUFFING")), alerts.toString());
      for (String rule : alerts.stream().map(a -> a.getAlert().getRule()).distinct().toList()) {
        long count = alerts.stream().filter(a -> a.getAlert().getRule().equals(rule)).count();
        assertEquals(count, delta(before, after, "auth_review_alerts_total{rule=\"" + rule + "\"}"), rule);
      }
      for (String detail : new String[] {STUFFED, ENVOY_SOURCE, ENVOY_PRINCIPAL, SECRET_PATH, MADE_UP_METHOD,
          token.substring(0, 20), "127.0.0.1", TestServer.ADMIN + "\""}) {
        assertFalse(text.contains(detail), "the scrape holds " + detail + ":\n" + text);
      }
    }
  }

  @Test
  void readinessFollowsTheStoreAndLivenessDoesNot() throws Exception {
    try (TestServer server = start(new MutableClock(Instant.now()))) {
      assumeTrue(server.store().restartable(), "needs the embedded store, which the test can stop");
      assertEquals(200, status(server, "/health/ready"));
      assertEquals(200, status(server, "/health/live"));
      server.store().stopStore();
      try {
        Await.until("ready to say 503 with the store away", 20, () -> status(server, "/health/ready") == 503);
        assertEquals(200, status(server, "/health/live"));
        HttpResponse<String> notReady = get(server, "/health/ready");
        assertEquals("no-store", notReady.headers().firstValue("Cache-Control").orElseThrow());
      } finally {
        server.store().restartStore();
      }
      Await.until("ready again once the store is back", 30, () -> status(server, "/health/ready") == 200);
    }
  }

  private static com.google.protobuf.Timestamp ts(Instant i) {
    return com.google.protobuf.Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private ValidateResponseView validate(TestServer server, String token) {
    var response = server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
    return new ValidateResponseView(response.getActive(), response.getFailure());
  }

  private record ValidateResponseView(boolean getActive, ValidationFailure getFailure) {}

  private HttpResponse<String> get(TestServer server, String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private int status(TestServer server, String path) {
    return get(server, path).statusCode();
  }

  private String scrapeText(TestServer server) {
    HttpResponse<String> response = get(server, "/metrics");
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
    return response.body();
  }

  private Map<String, Double> scrape(TestServer server) {
    return parse(scrapeText(server));
  }

  /** The Prometheus text format: one sample a line, {@code name{labels} value}; comments skipped. */
  static Map<String, Double> parse(String text) {
    Map<String, Double> samples = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int split = line.lastIndexOf(' ');
      samples.put(line.substring(0, split), Double.parseDouble(line.substring(split + 1)));
    }
    return samples;
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String series) {
    assertTrue(after.containsKey(series), "no series " + series + " in " + after.keySet());
    return after.get(series) - before.getOrDefault(series, 0.0);
  }
}
