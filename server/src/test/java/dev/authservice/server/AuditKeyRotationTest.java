package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.GetAuditKeysRequest;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * The audit checkpoint key rotates like the token key, on demand and on its interval, but never
 * retires: checkpoints signed with every earlier key keep verifying, and each checkpoint names
 * its key by kid.
 */
class AuditKeyRotationTest {
  private static final Duration FAST_CHECKPOINTS = Duration.ofMillis(150);

  private static KeyAdminServiceGrpc.KeyAdminServiceBlockingStub keyAdmin(TestServer server, String token) {
    return TestServer.withBearer(KeyAdminServiceGrpc.newBlockingStub(server.channel()), token)
        .withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static void events(TestServer server) {
    String token = server.adminToken();
    for (int i = 0; i < 3; i++) {
      server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
    }
  }

  private static Set<String> checkpointKids(TestServer server) {
    Set<String> kids = new HashSet<>();
    server.database().getCollection("audit_checkpoints").find()
        .forEach(c -> kids.add(KeyAttacks.kidOf(c.getString("signature"))));
    return kids;
  }

  private static void awaitCheckpointSignedWith(TestServer server, String kid) throws InterruptedException {
    events(server);
    Await.until("a checkpoint signed with " + kid, 15, () -> checkpointKids(server).contains(kid));
  }

  private static String newestAuditKid(TestServer server) {
    return server.database().getCollection("audit_signing_keys").find().sort(Sorts.descending("generation"))
        .first().getString("_id");
  }

  @Test
  void theAuditKeyRotatesOnDemandAndOnItsIntervalAndTheTrailVerifiesAcrossAllItsKeys() throws Exception {
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b.auditCheckpointInterval(FAST_CHECKPOINTS)
        .keys(KeySettings.DEV.withAuditRotationInterval(Optional.of(Duration.ofDays(1)))), clock)) {
      String first = newestAuditKid(server);
      awaitCheckpointSignedWith(server, first);

      RotateAuditSigningKeyResponse rotation = keyAdmin(server, server.adminToken())
          .rotateAuditSigningKey(RotateAuditSigningKeyRequest.getDefaultInstance());
      assertNotEquals(first, rotation.getKid());
      assertEquals(first, rotation.getPreviousKid());
      assertEquals("EdDSA", rotation.getAlgorithm());
      String second = rotation.getKid();
      awaitCheckpointSignedWith(server, second);
      Document audited = server.database().getCollection("audit_events").find(Filters.and(
          Filters.eq("type", "AUDIT_EVENT_TYPE_KEY_ROTATE"), Filters.eq("token_id", "audit_kid:" + second))).first();
      assertTrue(audited != null, "the rotation is an audited admin action");
      assertEquals("admin", audited.getString("actor"), audited.toJson());

      clock.advance(Duration.ofDays(1).plusMinutes(1));
      Await.until("the interval rotates the day-old audit key", 15,
          () -> server.database().getCollection("audit_signing_keys").countDocuments() == 3);
      String third = newestAuditKid(server);
      awaitCheckpointSignedWith(server, third);

      VerifyAuditResponse verdict = TestServer.withBearer(server.auth(), server.adminToken())
          .verifyAudit(VerifyAuditRequest.getDefaultInstance());
      assertTrue(verdict.getOk(), verdict.toString());
      assertTrue(checkpointKids(server).containsAll(Set.of(first, second, third)), "checkpoints under all three keys");
      assertEquals(Set.of(first, second, third), KeyAttacks.kids(
          server.auth().getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysJson()),
          "GetAuditKeys publishes every audit key: none retires");
    }
  }

  @Test
  void anotherInstanceVerifiesAndPublishesTheKeyThisOneRotatedTo() throws Exception {
    try (TestServer server = TestServer.start(b -> b.auditCheckpointInterval(FAST_CHECKPOINTS))) {
      try (TestServer other = server.sibling(b -> b.auditCheckpointInterval(FAST_CHECKPOINTS), Clock.systemUTC())) {
        String rotated = keyAdmin(server, server.adminToken())
            .rotateAuditSigningKey(RotateAuditSigningKeyRequest.getDefaultInstance()).getKid();
        awaitCheckpointSignedWith(server, rotated);
        VerifyAuditResponse verdict = TestServer.withBearer(other.auth(), other.adminToken())
            .verifyAudit(VerifyAuditRequest.getDefaultInstance());
        assertTrue(verdict.getOk(), "the other instance verifies checkpoints under the new key at once: " + verdict);
        Await.until("the other instance publishes and signs with the new key", 15, () -> KeyAttacks.kids(
            other.auth().getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysJson()).contains(rotated));
        String otherChain = server.database().getCollection("audit_events")
            .find(Filters.eq("instance", other.config().instanceId())).first().getString("chain");
        long before = System.currentTimeMillis();
        events(other);
        MongoCollection<Document> checkpoints = server.database().getCollection("audit_checkpoints");
        Await.until("the other instance signs a checkpoint with the rotated key", 15, () -> checkpoints.find(
            Filters.and(Filters.eq("chain", otherChain), Filters.gt("time", new java.util.Date(before))))
            .into(new java.util.ArrayList<>()).stream()
            .anyMatch(c -> rotated.equals(KeyAttacks.kidOf(c.getString("signature")))));
      }
    }
  }

  @Test
  void onlyAdminsMayRotateTheAuditKey() {
    try (TestServer server = TestServer.start()) {
      TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(CreateUserRequest.newBuilder()
          .setUsername("auditor-1").setPassword("auditor-1-Password").addRoles("auditor").build());
      String auditor = server.login("auditor-1", "auditor-1-Password").getAccessToken();
      StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
          () -> keyAdmin(server, auditor).rotateAuditSigningKey(RotateAuditSigningKeyRequest.getDefaultInstance()));
      assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
      StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
          () -> KeyAdminServiceGrpc.newBlockingStub(server.channel()).withDeadlineAfter(20, TimeUnit.SECONDS)
              .rotateAuditSigningKey(RotateAuditSigningKeyRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
      assertEquals(1, server.database().getCollection("audit_signing_keys").countDocuments());
    }
  }

  @Test
  void theIntervalCannotBeSoShortThatKeysPileUp() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KeySettings.DEV.withAuditRotationInterval(Optional.of(Duration.ofHours(1))));
    assertTrue(e.getMessage().contains("AUTH_AUDIT_KEY_ROTATION_INTERVAL"), e.getMessage());
  }
}
