package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** No stored document and no log line holds an issued token, a password or a password hash. */
class SecretsAtRestTest {
  @Test
  void tokensPasswordsAndHashesStayOutOfTheStoreAndTheLog() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    root.addAppender(logged);
    List<String> secrets = new ArrayList<>();
    try (TestServer server = TestServer.start()) {
      String adminToken = server.adminToken();
      secrets.add(adminToken);
      secrets.add(TestServer.ADMIN_PASSWORD);
      var admin = TestServer.withBearer(server.userAdmin(), adminToken);
      admin.createUser(CreateUserRequest.newBuilder().setUsername("secretive").setPassword("Secretive-Password-42")
          .addRoles("auditor").build());
      secrets.add("Secretive-Password-42");
      assertThrows(StatusRuntimeException.class, () -> server.login("secretive", "Wrong-Password-Typed-43"));
      secrets.add("Wrong-Password-Typed-43");
      assertThrows(StatusRuntimeException.class, () -> server.login("Typo-Password-As-Username-44", "x-Password-1"));
      String token = server.login("secretive", "Secretive-Password-42").getAccessToken();
      secrets.add(token);
      server.auth().validate(ValidateRequest.newBuilder().setToken(token).build());
      String[] parts = token.split("\\.");
      String tampered = parts[0] + "." + parts[1] + "." + new StringBuilder(parts[2]).reverse();
      secrets.add(tampered);
      server.auth().validate(ValidateRequest.newBuilder().setToken(tampered).build());
      TestServer.withBearer(server.auth(), token).queryAudit(QueryAuditRequest.getDefaultInstance());
      assertThrows(StatusRuntimeException.class, () -> TestServer.withBearer(server.userAdmin(), token)
          .createUser(CreateUserRequest.newBuilder().setUsername("nope").setPassword("Nope-Password-45").build()));
      secrets.add("Nope-Password-45");

      List<String> hashes = new ArrayList<>();
      server.database().getCollection("users").find().forEach(d -> hashes.add(d.getString("password_hash")));
      assertTrue(hashes.stream().allMatch(h -> h.startsWith("$argon2id$")), "passwords are stored as Argon2id");

      for (String collection : server.database().listCollectionNames()) {
        for (Document doc : server.database().getCollection(collection).find()) {
          String json = doc.toJson();
          for (String secret : secrets) {
            assertFalse(json.contains(secret), collection + " holds a secret");
            assertFalse(secret.contains(".") && json.contains(secret.split("\\.")[2]),
                collection + " holds a token signature");
          }
          if (!collection.equals("users")) {
            assertFalse(json.contains("$argon2"), collection + " holds a password hash");
            for (String hash : hashes) {
              assertFalse(json.contains(hash.substring(hash.lastIndexOf('$') + 1)), collection + " holds a hash");
            }
          }
        }
      }
      for (ILoggingEvent event : logged.list) {
        String line = event.getFormattedMessage()
            + (event.getThrowableProxy() == null ? "" : event.getThrowableProxy().getMessage());
        for (String secret : secrets) {
          assertFalse(line.contains(secret), "log line holds a secret: " + event.getLoggerName());
        }
        for (String hash : hashes) {
          assertFalse(line.contains(hash), "log line holds a hash");
        }
      }
      assertFalse(logged.list.isEmpty(), "the server logged something, so the check above had lines to read");
    } finally {
      root.detachAppender(logged);
    }
  }
}
