package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.server.throttle.ThrottleSettings;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.junit.jupiter.api.Test;

/**
 * Calls refused before any password or token check are all accounted for, as counted events, so
 * a flood of them costs the store a bounded number of documents.
 */
class RefusalRollupTest {
  private static long documents(TestServer server, Bson filter) {
    return server.database().getCollection("audit_events").countDocuments(filter);
  }

  private static long counted(TestServer server, Bson filter) {
    long total = 0;
    for (Document e : server.database().getCollection("audit_events").find(filter)) {
      total += e.get("count") instanceof Number n ? n.longValue() : 1;
    }
    return total;
  }

  @Test
  void aThousandRefusedLoginsWithRandomUsernamesAreAllCountedInFewDocuments() throws Exception {
    // the address limit's budget slides with the minute: one that begins during the 1,000 calls can
    // let an attempt through to the password check, and it is then not counted as address-limited.
    // The server's clock therefore starts each run just after a minute began. (This test failed once
    // in CI, short of 1,000 after 15 s with every event durable; this was the one cause found, not
    // confirmed by making a run cross a minute.)
    Instant now = Instant.now();
    Instant minuteStart = now.truncatedTo(ChronoUnit.MINUTES).plus(1, ChronoUnit.MINUTES).plusSeconds(1);
    Clock clock = Clock.offset(Clock.systemUTC(), Duration.between(now, minuteStart));
    try (TestServer server = TestServer.start(b -> b.throttle(new ThrottleSettings(100, Duration.ofMinutes(15), 0, 5))
        .rollupFlushInterval(Duration.ofMillis(500)), clock)) {
      String auditor = server.adminToken();
      for (int i = 0; i < 5; i++) {
        String user = "guess-" + i;
        assertThrows(StatusRuntimeException.class, () -> server.login(user, "wrong-password"));
      }
      try (ExecutorService callers = Executors.newFixedThreadPool(8)) {
        for (int i = 0; i < 1000; i++) {
          callers.submit(() -> assertThrows(StatusRuntimeException.class,
              () -> server.login("random-" + UUID.randomUUID(), "any-password")));
        }
      }
      Bson refused = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"), Filters.eq("reason", "address_rate_limited"));
      Await.until("every refused login counted", 15, () -> counted(server, refused) == 1000);
      long stored = documents(server, refused);
      assertTrue(stored <= 150, "documents for 1,000 refused logins: " + stored);
      // counted events are ordinary events: QueryAudit shows them with their count
      var page = TestServer.withBearer(server.auth(), auditor).queryAudit(QueryAuditRequest.newBuilder()
          .addTypes(dev.authservice.proto.auth.v1.AuditEventType.AUDIT_EVENT_TYPE_LOGIN)
          .setOutcome(dev.authservice.proto.auth.v1.AuditOutcome.AUDIT_OUTCOME_FAILURE).setPageSize(1000).build());
      assertEquals(1000, page.getEventsList().stream().filter(e -> e.getReason().equals("address_rate_limited"))
          .mapToLong(e -> Math.max(1, e.getCount())).sum());
    }
  }

  @Test
  void refusedCallsWithoutAValidBearerTokenAreCountedNotWrittenOneByOne() throws Exception {
    try (TestServer server = TestServer.start(b -> b.rollupFlushInterval(Duration.ofMillis(500)))) {
      for (int i = 0; i < 300; i++) {
        assertThrows(StatusRuntimeException.class, () -> server.auth().queryAudit(QueryAuditRequest.getDefaultInstance()));
        String garbage = "garbage." + i + ".token";
        assertThrows(StatusRuntimeException.class, () -> TestServer.withBearer(server.auth(), garbage)
            .queryAudit(QueryAuditRequest.getDefaultInstance()));
      }
      Bson denied = Filters.eq("type", "AUDIT_EVENT_TYPE_ACCESS_DENIED");
      Await.until("every refusal counted", 15, () -> counted(server, denied) == 600);
      assertTrue(documents(server, denied) <= 60, "documents for 600 refusals: " + documents(server, denied));
      assertEquals(300, counted(server, Filters.and(denied, Filters.eq("reason", "no_bearer_token"))));
    }
  }

  @Test
  void pastTheGroupCapRefusalsAreCountedWithoutTheirAddress() throws Exception {
    try (TestServer server = TestServer.start(b -> b.refusalRollupMaxKeys(3)
        .trustedProxies(List.of("127.0.0.1/32")).rollupFlushInterval(Duration.ofMillis(500)))) {
      for (int address = 0; address < 20; address++) {
        Metadata forwarded = new Metadata();
        forwarded.put(Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER), "198.51.100." + address);
        var fromThere = server.auth().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(forwarded));
        for (int i = 0; i < 5; i++) {
          assertThrows(StatusRuntimeException.class, () -> fromThere.queryAudit(QueryAuditRequest.getDefaultInstance()));
        }
      }
      Bson denied = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_ACCESS_DENIED"), Filters.eq("reason", "no_bearer_token"));
      Await.until("every refusal counted", 15, () -> counted(server, denied) == 100);
      long addresses = server.database().getCollection("audit_events").distinct("client_ip", denied, String.class)
          .into(new java.util.ArrayList<>()).size();
      // three groups with their address, then one without (its first event keeps the address it came
      // from); twice that if the minute turned during the test
      assertTrue(addresses <= 8, "addresses kept: " + addresses);
      assertTrue(documents(server, denied) <= 40, "documents: " + documents(server, denied));
    }
  }

  @Test
  void garbageTokensSentToValidateAreCountedNotWrittenOneByOne() throws Exception {
    try (TestServer server = TestServer.start(b -> b.rollupFlushInterval(Duration.ofMillis(500)))) {
      for (int i = 0; i < 500; i++) {
        assertEquals(false, server.auth().validate(dev.authservice.proto.auth.v1.ValidateRequest.newBuilder()
            .setToken("garbage." + i + ".token").build()).getActive());
      }
      Bson malformed = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"),
          Filters.eq("reason", "VALIDATION_FAILURE_MALFORMED"));
      Await.until("every garbage token counted", 15, () -> counted(server, malformed) == 500);
      assertTrue(documents(server, malformed) <= 50, "documents for 500 garbage tokens: " + documents(server, malformed));
    }
  }

  @Test
  void refreshAndRevokeWithTokensNeverIssuedAreCountedNotWrittenOneByOne() throws Exception {
    try (TestServer server = TestServer.start(b -> b.rollupFlushInterval(Duration.ofMillis(500)))) {
      for (int i = 0; i < 300; i++) {
        String junk = i % 2 == 0 ? "x" + i : java.util.Base64.getUrlEncoder().withoutPadding()
            .encodeToString(UUID.randomUUID().toString().repeat(2).getBytes(java.nio.charset.StandardCharsets.UTF_8))
            .substring(0, 43);
        assertThrows(StatusRuntimeException.class, () -> server.auth().refresh(
            dev.authservice.proto.auth.v1.RefreshRequest.newBuilder().setRefreshToken(junk).build()));
        server.auth().revoke(dev.authservice.proto.auth.v1.RevokeRequest.newBuilder().setToken(junk).build());
      }
      Bson refreshes = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_REFRESH"),
          Filters.in("reason", "malformed_refresh_token", "unknown_refresh_token"));
      Bson revokes = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_REVOKE"), Filters.eq("reason", "unknown_token"));
      Await.until("every refused refresh and revoke counted", 15,
          () -> counted(server, refreshes) == 300 && counted(server, revokes) == 300);
      assertTrue(documents(server, refreshes) <= 40, "documents for 300 junk refreshes: " + documents(server, refreshes));
      assertTrue(documents(server, revokes) <= 20, "documents for 300 junk revocations: " + documents(server, revokes));
      // a refresh token we issued, refused, is still written as it happens, naming its user
      var tokens = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      server.auth().revoke(dev.authservice.proto.auth.v1.RevokeRequest.newBuilder()
          .setToken(tokens.getRefreshToken()).build());
      assertThrows(StatusRuntimeException.class, () -> server.auth().refresh(
          dev.authservice.proto.auth.v1.RefreshRequest.newBuilder().setRefreshToken(tokens.getRefreshToken()).build()));
      Await.until("the revoked session's refresh written", 10, () -> documents(server, Filters.and(
          Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_REFRESH"), Filters.eq("reason", "session_revoked"),
          Filters.eq("username", TestServer.ADMIN), Filters.or(Filters.exists("count", false),
          Filters.eq("count", 1)))) == 1);
    }
  }

  @Test
  void revokingTheSameTokenAgainAndAgainIsCountedNotWrittenOneByOne() throws Exception {
    try (TestServer server = TestServer.start(b -> b.rollupFlushInterval(Duration.ofMillis(500)))) {
      String token = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
      for (int i = 0; i < 300; i++) {
        server.auth().revoke(dev.authservice.proto.auth.v1.RevokeRequest.newBuilder().setToken(token).build());
      }
      Bson first = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_REVOKE"),
          Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"), Filters.exists("reason", false));
      Bson again = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_REVOKE"),
          Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"), Filters.eq("reason", "already_revoked"));
      Await.until("every repeat counted", 15, () -> counted(server, again) == 299);
      assertEquals(1, documents(server, first), "the revocation itself, written as it happened");
      assertTrue(documents(server, again) <= 20, "documents for 299 repeats: " + documents(server, again));
      assertEquals(1, server.database().getCollection("revocations").countDocuments(), "one revocation");

      // the stored revocation deleted behind the instance's back: revoking again writes it again, as a revocation
      server.database().getCollection("revocations").deleteMany(new org.bson.Document());
      server.auth().revoke(dev.authservice.proto.auth.v1.RevokeRequest.newBuilder().setToken(token).build());
      assertEquals(1, server.database().getCollection("revocations").countDocuments(), "the revocation mended");
      Await.until("the mending revocation written as one", 10, () -> documents(server, first) == 2);
    }
  }

  @Test
  void oneIpv6HostCountsAsOneCallerHoweverManyAddressesOfItsBlockItUses() throws Exception {
    try (TestServer server = TestServer.start(b -> b.refusalRollupMaxKeys(3)
        .trustedProxies(List.of("127.0.0.1/32")).rollupFlushInterval(Duration.ofMillis(500)))) {
      for (int i = 0; i < 50; i++) {
        Metadata forwarded = new Metadata();
        forwarded.put(Metadata.Key.of("x-forwarded-for", Metadata.ASCII_STRING_MARSHALLER),
            "2001:db8:5:6:" + Integer.toHexString(i + 1) + "::1");
        var fromThere = server.auth().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(forwarded));
        assertThrows(StatusRuntimeException.class, () -> fromThere.queryAudit(QueryAuditRequest.getDefaultInstance()));
      }
      Bson denied = Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_ACCESS_DENIED"), Filters.eq("reason", "no_bearer_token"));
      Await.until("every refusal counted", 15, () -> counted(server, denied) == 50);
      // one group, not fifty: the cap of three is never reached, so nothing loses its address
      assertEquals(0, documents(server, Filters.and(denied, Filters.exists("client_ip", false))));
    }
  }
}
