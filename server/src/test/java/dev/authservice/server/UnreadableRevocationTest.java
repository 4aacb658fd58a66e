package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import java.time.Clock;
import java.util.Date;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * A revocation document this version cannot read: a kind a newer version added (a rolling
 * upgrade), or an edit. Before, it failed every read of the revocations: a running instance
 * stopped applying every revocation after it (revoked tokens stayed active there), and an
 * instance starting never became ready. Now it is skipped, said once in the log, and its number
 * counts as read.
 */
class UnreadableRevocationTest {
  @Test
  void aRevocationOfAKindThisVersionDoesNotKnowStopsNeitherLaterRevocationsNorAStart() throws Exception {
    try (TestServer server = TestServer.start();
        TestServer other = server.sibling(b -> b, Clock.systemUTC())) {
      String victim = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
      assertTrue(validate(other, victim).getActive());

      Object seq = nextRevocationNumber(server);
      server.database().getCollection("revocations").insertOne(new Document("_id", "client:some-client")
          .append("kind", "client").append("value", "some-client").append("seq", seq)
          .append("recorded_at", new Date()));
      server.database().getCollection("revocations").insertOne(new Document("_id", "token:\nforged line")
          .append("kind", "token").append("value", 42).append("recorded_at", new Date()));

      // an expiry that is not a date: read as none, by the numbered reads and by a full read at a start
      String permanent = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
      String permanentJti = (String) Tokens.decodePart(permanent, 1).get("jti");
      Object seq2 = nextRevocationNumber(server);
      server.database().getCollection("revocations").insertOne(new Document("_id", "token:" + permanentJti)
          .append("kind", "token").append("value", permanentJti).append("expires_at", "never")
          .append("seq", seq2).append("recorded_at", new Date()));

      server.auth().revoke(RevokeRequest.newBuilder().setToken(victim).build());
      Await.until("the other instance honours the revocation made after the unreadable one", 10,
          () -> validate(other, victim).getFailure() == ValidationFailure.VALIDATION_FAILURE_REVOKED);

      try (TestServer third = server.sibling(b -> b, Clock.systemUTC())) {
        String fresh = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
        assertTrue(validate(third, fresh).getActive(), "an instance started beside it answers");
        assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, validate(third, victim).getFailure());
        assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, validate(third, permanent).getFailure(),
            "a revocation whose expiry is not a date is read at a start too");
      }
    }
  }

  @Test
  void aDocumentPlantedUnderARevocationsIdDoesNotSwallowTheRealRevocation() throws Exception {
    try (TestServer server = TestServer.start();
        TestServer other = server.sibling(b -> b, Clock.systemUTC())) {
      String victim = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
      String jti = (String) Tokens.decodePart(victim, 1).get("jti");
      Object seq = nextRevocationNumber(server);
      // planted before the revocation, under the id it will have, with a value that revokes nothing
      server.database().getCollection("revocations").insertOne(new Document("_id", "token:" + jti)
          .append("kind", "token").append("value", 42).append("seq", seq)
          .append("recorded_at", new Date()));
      assertTrue(validate(other, victim).getActive());

      server.auth().revoke(RevokeRequest.newBuilder().setToken(victim).build());
      Await.until("the other instance honours the real revocation", 10,
          () -> validate(other, victim).getFailure() == ValidationFailure.VALIDATION_FAILURE_REVOKED);
      try (TestServer third = server.sibling(b -> b, Clock.systemUTC())) {
        assertEquals(ValidationFailure.VALIDATION_FAILURE_REVOKED, validate(third, victim).getFailure());
      }
    }
  }

  /** Takes the next revocation number, as a writer of another version would before writing its document. */
  private static Object nextRevocationNumber(TestServer server) {
    return server.database().getCollection("sequences").findOneAndUpdate(new Document("_id", "revocations"),
        Updates.inc("seq", 1L), new FindOneAndUpdateOptions().upsert(true).returnDocument(ReturnDocument.AFTER))
        .get("seq");
  }

  private static dev.authservice.proto.auth.v1.ValidateResponse validate(TestServer s, String token) {
    return s.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
  }
}
