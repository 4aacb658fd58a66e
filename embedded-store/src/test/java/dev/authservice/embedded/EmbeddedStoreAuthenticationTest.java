package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The embedded store answers only a connection that proved, with SCRAM-SHA-256, that it holds
 * the credential made at this start: the driver with it gets in; a driver without it, with a
 * wrong one, or a bare wire client sending legacy queries, forged proofs or a replayed proof
 * gets nothing.
 */
class EmbeddedStoreAuthenticationTest {
  @TempDir Path dir;
  private EmbeddedStore store;
  private ListAppender<ILoggingEvent> logged;

  @BeforeEach
  void start() {
    logged = new ListAppender<>();
    logged.start();
    root().addAppender(logged);
    store = EmbeddedStore.start(dir);
    try (MongoClient client = MongoClients.create(store.clientSettings())) {
      client.getDatabase("auth").getCollection("users").insertOne(new Document("_id", "u1").append("username", "alice")
          .append("password_hash", "$argon2id$secret-hash").append("roles", List.of("auditor")));
    }
  }

  @AfterEach
  void stop() {
    store.close();
    root().detachAppender(logged);
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /**
   * The store's own clients, through its settings, its URI with the credential or the application
   * name it marks (the auth server's way), leave no connection counted as unauthenticated, their
   * monitors' included: a flood of unauthenticated connections can never close theirs.
   */
  @Test
  void theStoresOwnClientsAreNeverCountedAsUnauthenticated() throws Exception {
    MongoClientSettings marked = MongoClientSettings.builder()
        .applyConnectionString(new com.mongodb.ConnectionString(store.connectionString()))
        .credential(store.credential()).applicationName(store.applicationName("auth-server test")).build();
    try (MongoClient settings = MongoClients.create(store.clientSettings());
        MongoClient uri = MongoClients.create(store.uriWithCredential());
        MongoClient named = MongoClients.create(marked)) {
      for (MongoClient client : List.of(settings, uri, named)) {
        assertEquals(1, client.getDatabase("auth").getCollection("users").countDocuments());
      }
      Await.until("no connection of theirs counted", 10, () -> store.unauthenticatedConnections() == 0);
      MongoClientSettings unmarked = MongoClientSettings.builder()
          .applyConnectionString(new com.mongodb.ConnectionString(store.connectionString()))
          .credential(store.credential()).applicationName("auth-server test").build();
      try (MongoClient other = MongoClients.create(unmarked)) {
        assertEquals(1, other.getDatabase("auth").getCollection("users").countDocuments());
        Await.until("an unmarked client's monitor counted", 10, () -> store.unauthenticatedConnections() > 0);
      }
    }
  }

  @Test
  void theCredentialOpensTheStoreAndNoLogLineHoldsIt() {
    try (MongoClient client = MongoClients.create(store.clientSettings())) {
      assertEquals("alice", client.getDatabase("auth").getCollection("users").find().first().getString("username"));
    }
    try (MongoClient client = MongoClients.create(store.uriWithCredential())) {
      assertEquals(1, client.getDatabase("auth").getCollection("users").countDocuments());
    }
    assertFalse(store.connectionString().contains(new String(store.credential().getPassword())));
    String password = new String(store.credential().getPassword());
    assertTrue(password.length() >= 43, "256 random bits");
    assertFalse(logged.list.isEmpty());
    String mark = store.applicationName("");
    for (ILoggingEvent event : logged.list) {
      assertFalse(event.getFormattedMessage().contains(password), "a log line holds the store's password");
      // the driver would at INFO (org.mongodb.driver.client prints the application name): kept at WARN
      assertFalse(event.getFormattedMessage().contains(mark), "a log line holds the store's connection mark");
    }
    assertTrue(logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains("embedded store listening on")));
  }

  @Test
  void withoutTheCredentialEveryCommandIsRefused() {
    try (MongoClient client = MongoClients.create(settings(null))) {
      MongoDatabase auth = client.getDatabase("auth");
      MongoDatabase admin = client.getDatabase("admin");
      // the handshake, as in MongoDB
      assertEquals(1.0, ((Number) admin.runCommand(new Document("ping", 1)).get("ok")).doubleValue());
      assertTrue(admin.runCommand(new Document("isMaster", 1)).containsKey("maxWireVersion"));
      List<Map.Entry<MongoDatabase, Document>> commands = List.of(
          Map.entry(auth, new Document("find", "users")),
          Map.entry(auth, new Document("FIND", "users")),
          Map.entry(auth, new Document("aggregate", "users").append("pipeline", List.of()).append("cursor", new Document())),
          Map.entry(auth, new Document("count", "users")),
          Map.entry(auth, new Document("distinct", "users").append("key", "password_hash")),
          Map.entry(auth, new Document("insert", "users").append("documents", List.of(new Document("_id", "x")))),
          Map.entry(auth, new Document("update", "users").append("updates", List.of(new Document("q", new Document())
              .append("u", new Document("$set", new Document("roles", List.of("admin"))))))),
          Map.entry(auth, new Document("delete", "users").append("deletes", List.of(new Document("q", new Document())
              .append("limit", 0)))),
          Map.entry(auth, new Document("findAndModify", "users").append("query", new Document())
              .append("update", new Document("$set", new Document("roles", List.of("admin"))))),
          Map.entry(auth, new Document("listCollections", 1)),
          Map.entry(auth, new Document("listIndexes", "users")),
          Map.entry(auth, new Document("createIndexes", "users").append("indexes", List.of(new Document("key",
              new Document("x", 1)).append("name", "x")))),
          Map.entry(auth, new Document("create", "intruder")),
          Map.entry(auth, new Document("drop", "users")),
          Map.entry(auth, new Document("dropDatabase", 1)),
          Map.entry(auth, new Document("getMore", 1L).append("collection", "users")),
          Map.entry(auth, new Document("killCursors", "users").append("cursors", List.of(1L))),
          Map.entry(auth, new Document("dbStats", 1)),
          Map.entry(auth, new Document("whatsmyuri", 1)),
          Map.entry(auth, new Document("buildInfo", 1)),
          Map.entry(admin, new Document("hello", 1)),
          Map.entry(admin, new Document("listDatabases", 1)),
          Map.entry(admin, new Document("serverStatus", 1)),
          Map.entry(admin, new Document("hostInfo", 1)),
          Map.entry(admin, new Document("renameCollection", "auth.users").append("to", "auth.stolen")),
          Map.entry(admin, new Document("getLog", "*")),
          Map.entry(admin, new Document("connectionStatus", 1)),
          Map.entry(admin, new Document("endSessions", List.of())));
      for (Map.Entry<MongoDatabase, Document> command : commands) {
        MongoCommandException refused = assertThrows(MongoCommandException.class,
            () -> command.getKey().runCommand(command.getValue()), command.getValue().toJson());
        assertEquals(13, refused.getCode(), command.getValue().toJson());
        assertEquals("Unauthorized", refused.getErrorCodeName());
      }
    }
    try (MongoClient client = MongoClients.create(store.clientSettings())) {
      Document alice = client.getDatabase("auth").getCollection("users").find().first();
      assertEquals(1, client.getDatabase("auth").getCollection("users").countDocuments(), "nothing written");
      assertEquals(List.of("auditor"), alice.getList("roles", String.class), "nothing updated");
      assertEquals(1, client.getDatabase("auth").getCollection("users").listIndexes().into(new ArrayList<>()).size());
    }
  }

  @Test
  void aWrongPasswordUserOrMechanismIsRefused() {
    char[] password = store.credential().getPassword();
    char[] wrong = password.clone();
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    List<MongoCredential> attempts = List.of(
        MongoCredential.createScramSha256Credential("auth-server", "admin", wrong),
        MongoCredential.createScramSha256Credential("someone-else", "admin", password),
        MongoCredential.createScramSha256Credential("auth-server", "auth", password),
        MongoCredential.createScramSha1Credential("auth-server", "admin", password));
    for (MongoCredential credential : attempts) {
      try (MongoClient client = MongoClients.create(settings(credential))) {
        MongoSecurityException refused = assertThrows(MongoSecurityException.class,
            () -> client.getDatabase("auth").getCollection("users").find().first(), credential.toString());
        MongoCommandException answer = assertInstanceOf(MongoCommandException.class, refused.getCause());
        assertTrue(answer.getCode() == 18 || answer.getCode() == 334, credential + ": " + answer.getMessage());
      }
    }
  }

  @Test
  void legacyQueriesGetNothingWithoutTheCredential() throws Exception {
    try (RawWire wire = new RawWire(store.port())) {
      List<BsonDocument> found = wire.query("auth.users", new BsonDocument());
      assertEquals(1, found.size(), "only the error");
      assertUnauthorized(found.get(0));
      assertFalse(found.get(0).containsKey("username"));
      assertUnauthorized(wire.query("auth.$cmd", new BsonDocument("find", new BsonString("users"))).get(0));
      assertUnauthorized(wire.query("auth.$cmd", new BsonDocument("$query",
          new BsonDocument("find", new BsonString("users")))).get(0));
      assertUnauthorized(wire.query("admin.$cmd", new BsonDocument("serverStatus", new BsonInt32(1))).get(0));
      assertUnauthorized(wire.query("admin.$cmd", new BsonDocument("listDatabases", new BsonInt32(1))).get(0));
      assertTrue(wire.query("admin.$cmd.sys.inprog", new BsonDocument()).get(0).getArray("inprog").isEmpty());
    }
  }

  @Test
  void aFailedAttemptIsAnsweredWithoutItsReasonAndEndsTheConnection() throws Exception {
    // a conversation the server never started
    try (RawWire wire = new RawWire(store.port())) {
      assertAuthenticationFailed(wire.command("admin", saslContinue("")));
      assertTrue(wire.closedByServer(), "a failed attempt ends the connection");
    }
    // a message too long to be SCRAM
    try (RawWire wire = new RawWire(store.port())) {
      assertAuthenticationFailed(wire.command("admin", saslStart("n,,n=auth-server,r=" + "x".repeat(2000), true)));
      assertTrue(wire.closedByServer());
    }
    // another user
    try (RawWire wire = new RawWire(store.port())) {
      assertAuthenticationFailed(wire.command("admin", saslStart("n,,n=admin,r=abcdefgh", true)));
      assertTrue(wire.closedByServer());
    }
    assertTrue(logged.list.stream().anyMatch(e -> e.getFormattedMessage().contains("failed authentication")),
        "the server's log says why");
  }

  @Test
  void aForgedProofIsRefused() throws Exception {
    try (RawWire wire = new RawWire(store.port())) {
      ScramClient scram = new ScramClient("auth-server", "not-the-password".toCharArray());
      String serverFirst = payload(wire.command("admin", saslStart(scram.first(), true)));
      // well formed, right nonce, proof computed from a guessed password
      assertAuthenticationFailed(wire.command("admin", saslContinue(scram.finalMessage(serverFirst))));
      assertTrue(wire.closedByServer());
    }
    try (RawWire wire = new RawWire(store.port())) {
      String serverFirst = payload(wire.command("admin", saslStart(new ScramClient("auth-server",
          new char[0]).first(), true)));
      byte[] forged = new byte[32];
      new SecureRandom().nextBytes(forged);
      assertAuthenticationFailed(wire.command("admin", saslContinue("c=biws,r="
          + serverFirst.substring(2, serverFirst.indexOf(',')) + ",p=" + Base64.getEncoder().encodeToString(forged))));
      assertTrue(wire.closedByServer());
    }
  }

  @Test
  void theFullExchangeProvesBothSidesAndOnlyThenOpensTheStore() throws Exception {
    char[] password = store.credential().getPassword();
    // without skipEmptyExchange: proof, server signature, the empty step, then in
    try (RawWire wire = new RawWire(store.port())) {
      ScramClient scram = new ScramClient("auth-server", password);
      BsonDocument first = wire.command("admin", saslStart(scram.first(), false));
      assertFalse(first.getBoolean("done").getValue());
      String serverFirst = payload(first);
      assertTrue(serverFirst.startsWith("r=" + scram.nonce), serverFirst);
      assertTrue(Integer.parseInt(serverFirst.substring(serverFirst.indexOf(",i=") + 3)) >= 4096);
      BsonDocument second = wire.command("admin", saslContinue(scram.finalMessage(serverFirst)));
      assertFalse(second.getBoolean("done").getValue(), "not done: the client did not skip the empty step");
      assertArrayEquals(scram.expectedServerSignature, Base64.getDecoder().decode(payload(second).substring(2)),
          "the server proves it knows the password too");
      assertUnauthorized(wire.command("auth", new BsonDocument("find", new BsonString("users"))));
      BsonDocument third = wire.command("admin", saslContinue(""));
      assertTrue(third.getBoolean("done").getValue());
      BsonDocument found = wire.command("auth", new BsonDocument("find", new BsonString("users")));
      assertEquals("alice", found.getDocument("cursor").getArray("firstBatch").get(0).asDocument()
          .getString("username").getValue());
    }
    // the driver's way: skipEmptyExchange, done with the server's signature
    try (RawWire wire = new RawWire(store.port())) {
      ScramClient scram = new ScramClient("auth-server", password);
      BsonDocument second = wire.command("admin", saslContinue(scram.finalMessage(payload(
          wire.command("admin", saslStart(scram.first(), true))))));
      assertTrue(second.getBoolean("done").getValue());
      assertEquals(1, wire.command("auth", new BsonDocument("count", new BsonString("users"))).getNumber("n")
          .intValue());
    }
  }

  @Test
  void aProofReplayedOnAnotherConnectionIsRefused() throws Exception {
    ScramClient scram = new ScramClient("auth-server", store.credential().getPassword());
    String clientFirst = scram.first();
    String clientFinal;
    try (RawWire wire = new RawWire(store.port())) {
      clientFinal = scram.finalMessage(payload(wire.command("admin", saslStart(clientFirst, true))));
      assertTrue(wire.command("admin", saslContinue(clientFinal)).getBoolean("done").getValue());
    }
    // an eavesdropper repeats both client messages: the server's nonce differs, so the proof proves nothing
    try (RawWire wire = new RawWire(store.port())) {
      wire.command("admin", saslStart(clientFirst, true));
      assertAuthenticationFailed(wire.command("admin", saslContinue(clientFinal)));
      assertTrue(wire.closedByServer());
    }
  }

  private MongoClientSettings settings(MongoCredential credential) {
    MongoClientSettings.Builder builder = MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString(store.connectionString()))
        .applyToClusterSettings(b -> b.serverSelectionTimeout(10, TimeUnit.SECONDS));
    if (credential != null) {
      builder.credential(credential);
    }
    return builder.build();
  }

  private static BsonDocument saslStart(String payload, boolean skipEmptyExchange) {
    BsonDocument command = new BsonDocument("saslStart", new BsonInt32(1))
        .append("mechanism", new BsonString("SCRAM-SHA-256"))
        .append("payload", new BsonBinary(payload.getBytes(StandardCharsets.UTF_8)));
    if (skipEmptyExchange) {
      command.append("options", new BsonDocument("skipEmptyExchange", org.bson.BsonBoolean.TRUE));
    }
    return command;
  }

  private static BsonDocument saslContinue(String payload) {
    return new BsonDocument("saslContinue", new BsonInt32(1)).append("conversationId", new BsonInt32(1))
        .append("payload", new BsonBinary(payload.getBytes(StandardCharsets.UTF_8)));
  }

  private static String payload(BsonDocument answer) {
    assertEquals(1.0, answer.getNumber("ok").doubleValue(), answer.toJson());
    return new String(answer.getBinary("payload").getData(), StandardCharsets.UTF_8);
  }

  private static void assertUnauthorized(BsonDocument answer) {
    assertEquals(0.0, answer.getNumber("ok").doubleValue(), answer.toJson());
    assertEquals(13, answer.getNumber("code").intValue(), answer.toJson());
  }

  private static void assertAuthenticationFailed(BsonDocument answer) {
    assertEquals(0.0, answer.getNumber("ok").doubleValue(), answer.toJson());
    assertEquals(18, answer.getNumber("code").intValue(), answer.toJson());
    assertEquals("Authentication failed.", answer.getString("errmsg").getValue(), "no reason for the client");
  }

  /** The client side of SCRAM-SHA-256, written from RFC 5802 for these tests. */
  private static final class ScramClient {
    final String nonce;
    private final String user;
    private final char[] password;
    private String bare;
    byte[] expectedServerSignature;

    ScramClient(String user, char[] password) {
      this.user = user;
      this.password = password;
      byte[] random = new byte[18];
      new SecureRandom().nextBytes(random);
      this.nonce = Base64.getEncoder().encodeToString(random);
    }

    String first() {
      bare = "n=" + user + ",r=" + nonce;
      return "n,," + bare;
    }

    String finalMessage(String serverFirst) throws Exception {
      Map<String, String> fields = new java.util.HashMap<>();
      for (String field : serverFirst.split(",")) {
        fields.put(field.substring(0, 1), field.substring(2));
      }
      PBEKeySpec spec = new PBEKeySpec(password, Base64.getDecoder().decode(fields.get("s")),
          Integer.parseInt(fields.get("i")), 256);
      byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
      String withoutProof = "c=biws,r=" + fields.get("r");
      String authMessage = bare + "," + serverFirst + "," + withoutProof;
      byte[] clientKey = hmac(salted, "Client Key");
      byte[] signature = hmac(MessageDigest.getInstance("SHA-256").digest(clientKey), authMessage);
      byte[] proof = new byte[clientKey.length];
      for (int i = 0; i < proof.length; i++) {
        proof[i] = (byte) (clientKey[i] ^ signature[i]);
      }
      expectedServerSignature = hmac(hmac(salted, "Server Key"), authMessage);
      return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    private static byte[] hmac(byte[] key, String message) throws Exception {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(message.getBytes(StandardCharsets.UTF_8));
    }
  }
}
