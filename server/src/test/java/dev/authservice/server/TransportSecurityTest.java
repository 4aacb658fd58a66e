package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS, mutual TLS, the plaintext rule, authenticated Validate callers and the probing limit. */
class TransportSecurityTest {
  @TempDir Path dir;

  private static ManagedChannel tlsChannel(int port, Path trust, TestCertificates.Issued clientCert) throws Exception {
    SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(trust.toFile());
    if (clientCert != null) {
      ssl.keyManager(clientCert.certFile().toFile(), clientCert.keyFile().toFile());
    }
    return NettyChannelBuilder.forAddress("127.0.0.1", port).overrideAuthority("localhost").sslContext(ssl.build()).build();
  }

  private static AuthServiceGrpc.AuthServiceBlockingStub auth(ManagedChannel channel) {
    return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static void close(ManagedChannel channel) throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void tlsServesTlsClientsAndRefusesPlaintext() throws Exception {
    TestCertificates pki = new TestCertificates(dir, "test-ca");
    TestCertificates.Issued serverCert = pki.server();
    try (TestServer server = TestServer.start(b -> b.tls(new TlsSettings(Optional.of(serverCert.certFile()),
        Optional.of(serverCert.keyFile()), Optional.empty(), false)))) {
      ManagedChannel tls = tlsChannel(server.port(), pki.caFile(), null);
      try {
        assertTrue(auth(tls).login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
            .setPassword(TestServer.ADMIN_PASSWORD).build()).getAccessToken().length() > 0);
      } finally {
        close(tls);
      }
      StatusRuntimeException plaintext = assertThrows(StatusRuntimeException.class, () -> server.auth().validate(
          ValidateRequest.newBuilder().setToken("a.b.c").build()));
      assertEquals(Status.Code.UNAVAILABLE, plaintext.getStatus().getCode());

      TestCertificates stranger = new TestCertificates(dir, "other-ca");
      ManagedChannel untrusting = tlsChannel(server.port(), stranger.caFile(), null);
      try {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> auth(untrusting).validate(ValidateRequest.newBuilder().setToken("a.b.c").build()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), "a client that does not trust the server's CA");
      } finally {
        close(untrusting);
      }
    }
  }

  @Test
  void mutualTlsAcceptsClientsOfTheCaRecordsTheirSubjectAndRefusesOthers() throws Exception {
    TestCertificates pki = new TestCertificates(dir, "mtls-ca");
    TestCertificates.Issued serverCert = pki.server();
    TestCertificates.Issued billing = pki.client("O=Example,CN=billing-service");
    TestCertificates foreign = new TestCertificates(dir, "foreign-ca");
    TestCertificates.Issued impostor = foreign.client("O=Example,CN=billing-service");
    try (TestServer server = TestServer.start(b -> b.tls(new TlsSettings(Optional.of(serverCert.certFile()),
        Optional.of(serverCert.keyFile()), Optional.of(pki.caFile()), false)))) {
      ManagedChannel good = tlsChannel(server.port(), pki.caFile(), billing);
      try {
        ValidateResponse response = auth(good).validate(ValidateRequest.newBuilder().setToken("a.b.c").build());
        assertEquals(false, response.getActive());
      } finally {
        close(good);
      }
      Document event = server.database().getCollection("audit_events").find(
          Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE")).first();
      // RFC 2253 form: most specific name first
      assertEquals("CN=billing-service,O=Example", event.getString("peer_identity"));

      // a subject of any length the CA signs is recorded cut short, never setting an event's size
      TestCertificates.Issued longName = pki.client("O=Example," + "OU=unit-with-a-long-name,".repeat(100)
          + "CN=long-subject");
      ManagedChannel verbose = tlsChannel(server.port(), pki.caFile(), longName);
      try {
        auth(verbose).validate(ValidateRequest.newBuilder().setToken("d.e.f").build());
      } finally {
        close(verbose);
      }
      String recorded = server.database().getCollection("audit_events").find(Filters.and(
          Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"), Filters.regex("peer_identity", "^CN=long-subject")))
          .first().getString("peer_identity");
      assertEquals(512, recorded.length());
      assertTrue(recorded.startsWith("CN=long-subject,OU=unit-with-a-long-name,"), recorded);

      for (TestCertificates.Issued clientCert : new TestCertificates.Issued[] {null, impostor}) {
        ManagedChannel refused = tlsChannel(server.port(), pki.caFile(), clientCert);
        try {
          StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
              () -> auth(refused).validate(ValidateRequest.newBuilder().setToken("a.b.c").build()));
          assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        } finally {
          close(refused);
        }
      }
    }
  }

  @Test
  void plaintextOffLoopbackNeedsTheExplicitFlag() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TestServer.start(b -> b.bindAddress("0.0.0.0")));
    assertTrue(e.getMessage().contains("AUTH_ALLOW_PLAINTEXT"), e.getMessage());
    try (TestServer allowed = TestServer.start(b -> b.bindAddress("0.0.0.0")
        .tls(new TlsSettings(Optional.empty(), Optional.empty(), Optional.empty(), true)))) {
      assertTrue(allowed.port() > 0);
    }
  }

  @Test
  void validateCanRequireAnAuthenticatedCaller() throws Exception {
    TestCertificates pki = new TestCertificates(dir, "validate-ca");
    TestCertificates.Issued serverCert = pki.server();
    TestCertificates.Issued service = pki.client("CN=orders-service");
    try (TestServer server = TestServer.start(b -> b.validateRequiresCaller(true))) {
      String token = server.adminToken();
      StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
          () -> server.auth().validate(ValidateRequest.newBuilder().setToken(token).build()));
      assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());

      TestServer.withBearer(server.userAdmin(), token).createUser(CreateUserRequest.newBuilder()
          .setUsername("svc-validator").setPassword("svc-validator-Password").addRoles("validator").build());
      TestServer.withBearer(server.userAdmin(), token).createUser(CreateUserRequest.newBuilder()
          .setUsername("svc-other").setPassword("svc-other-Password").addRoles("reader").build());
      String validator = server.login("svc-validator", "svc-validator-Password").getAccessToken();
      String other = server.login("svc-other", "svc-other-Password").getAccessToken();
      assertTrue(TestServer.withBearer(server.auth(), validator).validate(
          ValidateRequest.newBuilder().setToken(token).build()).getActive());
      StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
          () -> TestServer.withBearer(server.auth(), other).validate(ValidateRequest.newBuilder().setToken(token).build()));
      assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());

      try (TestServer mtls = server.sibling(b -> b.tls(new TlsSettings(Optional.of(serverCert.certFile()),
          Optional.of(serverCert.keyFile()), Optional.of(pki.caFile()), false)), Clock.systemUTC())) {
        ManagedChannel channel = tlsChannel(mtls.port(), pki.caFile(), service);
        try {
          assertTrue(auth(channel).validate(ValidateRequest.newBuilder().setToken(token).build()).getActive(),
              "a client certificate is enough");
        } finally {
          close(channel);
        }
      }
    }
  }

  @Test
  void aValidTokenIsNeverRefusedBecauseOfOtherTokens() {
    // a gateway validating its users' tokens sees expired and garbage tokens all day
    try (TestServer server = TestServer.start()) {
      String valid = server.adminToken();
      for (int i = 0; i < 400; i++) {
        assertEquals(false, server.auth().validate(ValidateRequest.newBuilder().setToken("probe." + i + ".x").build())
            .getActive());
      }
      assertTrue(server.auth().validate(ValidateRequest.newBuilder().setToken(valid).build()).getActive());
    }
  }

  @Test
  void theOptInProbingDefenceSlowsOnlyAnAuthenticatedCallersAnswersAboutInactiveTokens() {
    try (TestServer server = TestServer.start(b -> b.validateRequiresCaller(true).validateFailuresPerMinute(5)
        .validateFailureDelay(Duration.ofSeconds(2)))) {
      var admin = TestServer.withBearer(server.userAdmin(), server.adminToken());
      for (String name : new String[] {"gateway-a", "gateway-b"}) {
        admin.createUser(CreateUserRequest.newBuilder().setUsername(name).setPassword(name + "-Password-1")
            .addRoles("validator").build());
      }
      var gatewayA = TestServer.withBearer(server.auth(), server.login("gateway-a", "gateway-a-Password-1").getAccessToken());
      var gatewayB = TestServer.withBearer(server.auth(), server.login("gateway-b", "gateway-b-Password-1").getAccessToken());
      String valid = server.adminToken();
      for (int i = 0; i < 5; i++) {
        assertFalse(gatewayA.validate(ValidateRequest.newBuilder().setToken("probe." + i + ".x").build()).getActive());
      }
      long began = System.nanoTime();
      assertFalse(gatewayA.validate(ValidateRequest.newBuilder().setToken("probe.6.x").build()).getActive(),
          "still answered, never RESOURCE_EXHAUSTED");
      assertTrue(millisSince(began) >= 2000, "past the limit, an answer about an inactive token comes later");
      began = System.nanoTime();
      assertTrue(gatewayA.validate(ValidateRequest.newBuilder().setToken(valid).build()).getActive());
      assertTrue(millisSince(began) < 2000, "a valid token is answered at once: " + millisSince(began) + " ms");
      began = System.nanoTime();
      assertFalse(gatewayB.validate(ValidateRequest.newBuilder().setToken("probe.1.x").build()).getActive());
      assertTrue(millisSince(began) < 2000, "another caller is not slowed: " + millisSince(began) + " ms");
    }
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }
}
