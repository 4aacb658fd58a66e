package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.CheckpointSignatures;
import dev.authservice.proto.auth.v1.AuditProblem;
import dev.authservice.proto.auth.v1.ChainReport;
import dev.authservice.proto.auth.v1.GetAuditKeysRequest;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateSigningKeyResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import dev.authservice.proto.auth.v1.ValidationFailure;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import dev.authservice.server.keys.SigningAlgorithm;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.bson.types.Binary;
import org.junit.jupiter.api.Test;

/**
 * With a key-encryption key, a key is used (to sign, to verify, in a published key set) only if
 * its private key opens under that KEK and belongs to its public key. Each test is an attack by
 * someone who can write to the store but does not hold the KEK, on a running server or on a
 * restart.
 */
class KeyTrustTest {
  private static final Duration FAST_CHECKPOINTS = Duration.ofMillis(150);

  private static KeySettings withKek(byte[] kek) {
    return new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.of(kek), false);
  }

  private static ValidateResponse validate(TestServer server, String token) {
    return server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
  }

  private static Set<String> jwksKids(TestServer server) {
    return KeyAttacks.kids(server.auth().getJwks(GetJwksRequest.getDefaultInstance()).getKeysJson());
  }

  private static Set<String> auditKids(TestServer server) {
    return KeyAttacks.kids(server.auth().getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysJson());
  }

  private static String signingKid(TestServer server) {
    return KeyAttacks.kidOf(server.adminToken());
  }

  private static String forgedToken(TestServer server, String kid, KeyPair attacker) {
    return Tokens.sign(Tokens.header("RS256", "at+jwt", kid),
        Tokens.claims(server.config().issuer(), server.config().defaultAudience()), attacker.getPrivate());
  }

  private static RotateSigningKeyResponse rotate(TestServer server) {
    return TestServer.withBearer(KeyAdminServiceGrpc.newBlockingStub(server.channel()), server.adminToken())
        .withDeadlineAfter(20, TimeUnit.SECONDS).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
  }

  private static VerifyAuditResponse verifyAudit(TestServer server) {
    return TestServer.withBearer(server.auth(), server.adminToken()).verifyAudit(VerifyAuditRequest.getDefaultInstance());
  }

  private static byte[] privateKeyBytes(Document keyDocument) {
    return keyDocument.get("private_key_pkcs8", Binary.class).getData();
  }

  @Test
  void plaintextKeysOfADevRunStopAKekStartUntilTheOperatorHasThemEncrypted() {
    byte[] kek = KeyAttacks.randomKek();
    try (TestServer dev = TestServer.start(b -> b.auditCheckpointInterval(FAST_CHECKPOINTS))) {
      String token = dev.adminToken();
      MongoCollection<Document> tokenKeys = dev.database().getCollection("signing_keys");
      MongoCollection<Document> auditKeys = dev.database().getCollection("audit_signing_keys");
      Document tokenKey = tokenKeys.find().first();
      Document auditKey = auditKeys.find().first();
      List<String> clearKeys = List.of(Base64.getEncoder().encodeToString(privateKeyBytes(tokenKey)),
          Base64.getEncoder().encodeToString(privateKeyBytes(auditKey)));
      dev.stopServer(); // its shutdown checkpoint is signed with the development audit key

      IllegalStateException refused = assertThrows(IllegalStateException.class,
          () -> dev.sibling(b -> b.keys(withKek(kek)), Clock.systemUTC()));
      for (String expected : List.of("signing_keys kid=" + tokenKey.getString("_id"),
          "audit_signing_keys kid=" + auditKey.getString("_id"), "unencrypted", "AUTH_ENCRYPT_PLAINTEXT_KEYS=true")) {
        assertTrue(refused.getMessage().contains(expected), "names " + expected + ": " + refused.getMessage());
      }
      assertTrue(tokenKeys.find().first().containsKey("private_key_pkcs8"), "a refused start changes nothing");

      ListAppender<ILoggingEvent> logs = KeyAttacks.captureLogs();
      try (TestServer migrating = dev.sibling(b -> b.keys(withKek(kek).withEncryptPlaintextKeys(true)),
          Clock.systemUTC())) {
        assertTrue(KeyAttacks.logged(logs, Level.WARN, "signing_keys kid=" + tokenKey.getString("_id"), "encrypted"));
        assertTrue(KeyAttacks.logged(logs, Level.WARN, "audit_signing_keys kid=" + auditKey.getString("_id"),
            "encrypted"));
        for (MongoCollection<Document> keys : List.of(tokenKeys, auditKeys)) {
          for (Document stored : keys.find()) {
            assertTrue(stored.containsKey("private_key_sealed"), keys.getNamespace() + " " + stored.get("_id"));
            assertFalse(stored.containsKey("private_key_pkcs8"), "no private key left in the clear");
          }
        }
        for (String collection : dev.database().listCollectionNames()) {
          for (Document doc : dev.database().getCollection(collection).find()) {
            clearKeys.forEach(k -> assertFalse(doc.toJson().contains(k), collection + " still holds a private key"));
          }
        }
        assertTrue(validate(migrating, token).getActive(), "the same key, now encrypted, verifies its tokens");
        VerifyAuditResponse trail = verifyAudit(migrating);
        assertTrue(trail.getOk(), trail.toString());
        assertTrue(trail.getCheckpointsVerified() >= 1, "the development run's checkpoint verifies");
      } finally {
        KeyAttacks.stop(logs);
      }
      for (ILoggingEvent line : logs.list) {
        clearKeys.forEach(k -> assertFalse(line.getFormattedMessage().contains(k), "a log line holds a private key"));
      }

      try (TestServer encrypted = dev.sibling(b -> b.keys(withKek(kek)), Clock.systemUTC())) {
        assertTrue(validate(encrypted, token).getActive(), "once encrypted, the KEK alone starts the server");
      }
    }
  }

  @Test
  void aPlaintextKeyPlantedWithAHigherGenerationNeitherSignsNorVerifiesNorIsPublished() {
    ListAppender<ILoggingEvent> logs = KeyAttacks.captureLogs();
    try (TestServer server = TestServer.start(b -> b.keys(withKek(KeyAttacks.randomKek())))) {
      String realKid = signingKid(server);
      KeyPair attacker = Tokens.otherKeyPair("RS256");
      server.database().getCollection("signing_keys")
          .insertOne(KeyAttacks.plaintextKey("planted-plain", 2, "RS256", attacker));

      // the unknown kid makes the server reload its key set, planted document and all
      ValidateResponse forged = validate(server, forgedToken(server, "planted-plain", attacker));
      assertFalse(forged.getActive(), "a token signed with the planted key is not active");
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY, forged.getFailure());
      assertEquals(realKid, signingKid(server), "the newest generation does not sign: it is not trusted");
      assertEquals(Set.of(realKid), jwksKids(server), "the planted key is not published");
      assertTrue(KeyAttacks.logged(logs, Level.ERROR, "planted-plain", "unencrypted"), "the operator is told");

      RotateSigningKeyResponse rotation = rotate(server);
      assertNotEquals(realKid, rotation.getKid(), "the planted generation does not stop a rotation");
      assertEquals(3, server.database().getCollection("signing_keys").find(Filters.eq("_id", rotation.getKid()))
          .first().getInteger("generation"));
      assertEquals(rotation.getKid(), signingKid(server));
    } finally {
      KeyAttacks.stop(logs);
    }
  }

  @Test
  void aCiphertextCopiedUnderAnotherKidDoesNotOpenAndDoesNotStopReloads() throws Exception {
    byte[] kek = KeyAttacks.randomKek();
    try (TestServer server = TestServer.start(b -> b.keys(withKek(kek)))) {
      try (TestServer other = server.sibling(b -> b.keys(withKek(kek)), Clock.systemUTC())) {
        MongoCollection<Document> keys = server.database().getCollection("signing_keys");
        Document copy = new Document(keys.find().first());
        String realKid = copy.getString("_id");
        copy.put("_id", "planted-copy");
        copy.put("generation", 7);
        keys.insertOne(copy);

        RotateSigningKeyResponse rotation = rotate(other);
        assertEquals(8, keys.find(Filters.eq("_id", rotation.getKid())).first().getInteger("generation"));
        Await.until("the first instance reloads past the planted document", 15,
            () -> jwksKids(server).contains(rotation.getKid()));
        assertEquals(rotation.getKid(), signingKid(server), "and signs with the other instance's new key");
        assertEquals(Set.of(realKid, rotation.getKid()), jwksKids(server), "the copy is neither trusted nor published");
      }
    }
  }

  @Test
  void aKeyWhosePublicKeyWasSwappedNoLongerVerifies() throws Exception {
    try (TestServer server = TestServer.start(b -> b.keys(withKek(KeyAttacks.randomKek())))) {
      String oldKid = signingKid(server);
      RotateSigningKeyResponse rotation = rotate(server);
      KeyPair attacker = Tokens.otherKeyPair("RS256");
      // the sealed private key stays as it was; only the public key, which it does not cover, is the attacker's
      server.database().getCollection("signing_keys").updateOne(Filters.eq("_id", oldKid),
          Updates.set("public_key_x509", new Binary(attacker.getPublic().getEncoded())));

      Await.until("the next reload drops the altered key", 15,
          () -> jwksKids(server).equals(Set.of(rotation.getKid())));
      assertEquals(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY,
          validate(server, forgedToken(server, oldKid, attacker)).getFailure());
    }
  }

  @Test
  void aPlantedAuditKeyNeitherSignsNorMakesAForgedCheckpointVerify() throws Exception {
    byte[] kek = KeyAttacks.randomKek();
    ListAppender<ILoggingEvent> logs = KeyAttacks.captureLogs();
    try (TestServer first = TestServer.start(b -> b.keys(withKek(kek)).auditCheckpointInterval(FAST_CHECKPOINTS))) {
      for (int i = 0; i < 5; i++) {
        validate(first, first.adminToken());
      }
      String chain = first.database().getCollection("audit_events")
          .find(Filters.eq("instance", first.config().instanceId())).first().getString("chain");
      first.stopServer();
      try (TestServer witness = first.sibling(b -> b.keys(withKek(kek)).auditCheckpointInterval(FAST_CHECKPOINTS),
          Clock.systemUTC())) {
        String realAuditKid = witness.database().getCollection("audit_signing_keys").find().first().getString("_id");
        assertTrue(verifyAudit(witness).getOk(), "clean before the attack");

        KeyPair attacker = Tokens.otherKeyPair("EdDSA");
        witness.database().getCollection("audit_signing_keys")
            .insertOne(KeyAttacks.plaintextKey("planted-audit", 99, "EdDSA", attacker));
        MongoCollection<Document> checkpoints = witness.database().getCollection("audit_checkpoints");
        Document shutdown = checkpoints.find(Filters.and(Filters.eq("chain", chain), Filters.eq("kind", "SHUTDOWN")))
            .first();
        Checkpoint rewritten = checkpoint(shutdown, shutdown.getDate("time").getTime() - 3_600_000);
        String signature = CheckpointSignatures.sign(rewritten, attacker.getPrivate(), "planted-audit");
        checkpoints.updateOne(Filters.eq("_id", shutdown.get("_id")), Updates.combine(
            Updates.set("time", new Date(rewritten.time())), Updates.set("signature", signature),
            Updates.set("checkpoint_hash", rewritten.checkpointHash())));

        long attackTime = System.currentTimeMillis();
        VerifyAuditResponse verdict = verifyAudit(witness);
        assertFalse(verdict.getOk(), "a checkpoint signed with the planted key does not verify");
        ChainReport report = verdict.getChainsList().stream().filter(c -> c.getChain().equals(chain)).findFirst()
            .orElseThrow();
        assertEquals(AuditProblem.AUDIT_PROBLEM_BAD_CHECKPOINT, report.getProblem(), report.getDetail());
        assertEquals(Set.of(realAuditKid), auditKids(witness), "the planted audit key is not published");
        assertTrue(KeyAttacks.logged(logs, Level.ERROR, "audit_signing_keys", "planted-audit"));

        String ownChain = witness.database().getCollection("audit_events")
            .find(Filters.eq("instance", witness.config().instanceId())).first().getString("chain");
        for (int i = 0; i < 5; i++) {
          validate(witness, witness.adminToken());
        }
        Await.until("the witness writes a checkpoint after the attack", 15, () -> checkpoints.find(Filters.and(
            Filters.eq("chain", ownChain), Filters.gt("time", new Date(attackTime)))).first() != null);
        for (Document later : checkpoints.find(Filters.and(Filters.eq("chain", ownChain),
            Filters.gt("time", new Date(attackTime))))) {
          assertEquals(realAuditKid, KeyAttacks.kidOf(later.getString("signature")),
              "checkpoints are still signed with the real audit key");
        }
      }
    } finally {
      KeyAttacks.stop(logs);
    }
  }

  /** The stored checkpoint with another time: what an attacker who could sign would claim. */
  private static Checkpoint checkpoint(Document doc, long time) {
    List<Checkpoint.Head> heads = new ArrayList<>();
    for (Document head : doc.getList("heads", Document.class)) {
      heads.add(new Checkpoint.Head(head.getString("chain"), head.getLong("seq"), head.getString("hash")));
    }
    return new Checkpoint(Checkpoint.Kind.valueOf(doc.getString("kind")), doc.getString("chain"),
        doc.getLong("seq"), doc.getString("hash"), time, heads, doc.getString("prev_checkpoint_hash"), "");
  }

  @Test
  void theMigrationSettingNeedsAKek() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KeySettings.DEV.withEncryptPlaintextKeys(true));
    assertTrue(e.getMessage().contains("AUTH_KEY_ENCRYPTION_KEY"), e.getMessage());
  }
}
