package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoException;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attack of the security review: another local process opens a plain MongoDB client on the
 * embedded store and reads password hashes, secrets and keys, or sets a user's roles to admin.
 * The server runs as a child process, exactly as a user starts it; this test process is the
 * other local process. Every port the server listens on (read from /proc where there is one) gets
 * a client without a credential and one with a wrong password; nothing may be read or written,
 * and the server itself must go on working.
 */
class EmbeddedStoreIsolationTest {
  private static final Pattern STORE_LINE = Pattern.compile("embedded store listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final List<String> SECRET_COLLECTIONS =
      List.of("users", "signing_keys", "server_secrets", "audit_signing_keys");

  @TempDir Path dir;

  @Test
  void noOtherProcessReadsOrWritesTheEmbeddedStore() throws Exception {
    int grpcPort = freePort();
    String database = "auth_iso_" + UUID.randomUUID().toString().substring(0, 8);
    Path dataDir = dir.resolve("data");
    Process server = startServer(grpcPort, dataDir, database);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      awaitServing(channel, server);
      int storePort = storePort();
      Set<Integer> ports = new TreeSet<>(List.of(grpcPort, storePort));
      Set<Integer> listening = listeningPorts(server.pid());
      if (!listening.isEmpty()) {
        assertTrue(listening.containsAll(ports), "the ports the server listens on, " + listening
            + ", include the gRPC port " + grpcPort + " and the store port " + storePort);
        ports.addAll(listening);
      }

      String adminToken = auth(channel).login(login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD)).getAccessToken();
      TestServer.withBearer(admin(channel), adminToken).createUser(CreateUserRequest.newBuilder()
          .setUsername("mallory").setPassword("mallory-Password-1").addRoles("auditor").build());

      for (int port : ports) {
        boolean store = port == storePort;
        attack(port, database, store, null, e -> {
          if (store) {
            assertEquals(13, assertInstanceOf(MongoCommandException.class, e).getCode(),
                "refused as Unauthorized: " + e.getMessage());
          }
        });
        MongoCredential guessed = MongoCredential.createScramSha256Credential("auth-server", "admin",
            "a-guessed-password".toCharArray());
        attack(port, database, store, guessed, e -> {
          if (store) {
            MongoSecurityException security = assertInstanceOf(MongoSecurityException.class, e);
            assertEquals(18, assertInstanceOf(MongoCommandException.class, security.getCause()).getCode(),
                "refused as AuthenticationFailed: " + e.getMessage());
          }
        });
      }

      // the update did not land: mallory's next login is no admin's
      String malloryToken = auth(channel).login(login("mallory", "mallory-Password-1")).getAccessToken();
      StatusRuntimeException denied = assertThrows(StatusRuntimeException.class, () -> TestServer.withBearer(
          admin(channel), malloryToken).createUser(CreateUserRequest.newBuilder().setUsername("mallory-friend")
          .setPassword("friend-Password-1").addRoles("admin").build()));
      assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());

      // and the server itself still works: login, validate, audit
      assertTrue(auth(channel).validate(ValidateRequest.newBuilder().setToken(malloryToken).build()).getActive());
      Await.until("mallory's login in the audit trail", 20, () -> TestServer.withBearer(auth(channel), adminToken)
          .queryAudit(QueryAuditRequest.newBuilder().setUsername("mallory")
              .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).build()).getEventsCount() == 1);

      assertOwnerOnly(dataDir);
      String log = Files.readString(dir.resolve("server.log"));
      assertTrue(log.contains("embedded store: refused"), "the server logs refused commands");
      assertTrue(log.contains("embedded store: failed authentication"), "the server logs failed authentications");
    } finally {
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
      channel.shutdownNow();
    }
  }

  /**
   * Reads and writes as an attacker would, with no credential or a guessed one: every attempt
   * must fail, each failure checked by {@code refused}.
   */
  private static void attack(int port, String database, boolean store, MongoCredential credential,
      Consumer<MongoException> refused) {
    MongoClientSettings.Builder settings = MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + port + "/?directConnection=true"))
        // not MongoDB at all (the gRPC port) shows as no server to select: fail fast
        .applyToClusterSettings(b -> b.serverSelectionTimeout(store ? 10_000 : 250, TimeUnit.MILLISECONDS))
        .applyToSocketSettings(b -> b.connectTimeout(2, TimeUnit.SECONDS).readTimeout(5, TimeUnit.SECONDS));
    if (credential != null) {
      settings.credential(credential);
    }
    try (MongoClient client = MongoClients.create(settings.build())) {
      MongoDatabase db = client.getDatabase(database);
      List<Runnable> attempts = new ArrayList<>();
      attempts.add(() -> client.listDatabaseNames().into(new ArrayList<>()));
      for (String collection : SECRET_COLLECTIONS) {
        attempts.add(() -> db.getCollection(collection).find().into(new ArrayList<>()));
      }
      attempts.add(() -> db.getCollection("users").insertOne(new Document("_id", "intruder")
          .append("username", "intruder").append("roles", List.of("admin"))));
      attempts.add(() -> db.getCollection("users").updateOne(Filters.eq("username", "mallory"),
          Updates.set("roles", List.of("admin"))));
      for (Runnable attempt : attempts) {
        refused.accept(assertThrows(MongoException.class, attempt::run, "port " + port + " let an attempt through"));
      }
    }
  }

  private static void assertOwnerOnly(Path dataDir) throws IOException {
    if (!Files.getFileStore(dataDir).supportsFileAttributeView("posix")) {
      return;
    }
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir)));
    List<Path> entries;
    try (Stream<Path> list = Files.list(dataDir)) {
      entries = list.toList();
    }
    assertTrue(entries.stream().anyMatch(p -> p.getFileName().toString().equals("embedded-store.mv.db")));
    assertTrue(entries.stream().anyMatch(p -> p.getFileName().toString().equals("audit-spool.mv.db")));
    assertFalse(entries.stream().anyMatch(p -> p.getFileName().toString().equals("embedded-store.uri")),
        "no credential file unless asked for one");
    for (Path entry : entries) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(entry)),
          entry.getFileName() + " is for the server's user only");
    }
  }

  /**
   * The TCP ports the process listens on: its socket inodes (/proc/PID/fd) matched against the
   * listening sockets of /proc/net/tcp and tcp6. Empty where there is no /proc.
   */
  private static Set<Integer> listeningPorts(long pid) throws IOException {
    Path fds = Path.of("/proc", Long.toString(pid), "fd");
    if (!Files.isDirectory(fds)) {
      return Set.of();
    }
    Set<String> inodes = new TreeSet<>();
    try (Stream<Path> list = Files.list(fds)) {
      for (Path fd : list.toList()) {
        try {
          Matcher socket = Pattern.compile("socket:\\[(\\d+)]").matcher(Files.readSymbolicLink(fd).toString());
          if (socket.matches()) {
            inodes.add(socket.group(1));
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    Set<Integer> ports = new TreeSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(table);
      if (!Files.exists(path)) {
        continue;
      }
      List<String> lines = Files.readAllLines(path);
      for (String line : lines.subList(1, lines.size())) {
        String[] fields = line.trim().split("\\s+");
        boolean listen = fields[3].equals("0A");
        if (listen && inodes.contains(fields[9])) {
          String local = fields[1];
          ports.add(Integer.parseInt(local.substring(local.indexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }

  private int storePort() throws IOException {
    Matcher line = STORE_LINE.matcher(Files.readString(dir.resolve("server.log")));
    assertTrue(line.find(), "the server log says where its embedded store listens");
    return Integer.parseInt(line.group(1));
  }

  private Process startServer(int port, Path dataDir, String database) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    // a heap option: the JVM started here is the server itself (without one, plain java relaunches
    // the server in a child JVM, and the signals and ports under test would be the parent's)
    ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp",
        System.getProperty("java.class.path"),
        "dev.authservice.server.Main")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()));
    Map<String, String> env = builder.environment();
    env.remove("MONGODB_URI");   // the embedded store is what is under attack
    env.put("AUTH_PORT", Integer.toString(port));
    // the HTTP listeners on free ports: attacked like every other port, and no clash with a parallel test
    env.put("AUTH_HTTP_PORT", "0");
    env.put("AUTH_ADMIN_PORT", "0");
    env.put("AUTH_DATA_DIR", dataDir.toString());
    env.put("AUTH_MONGODB_DATABASE", database);
    env.put("AUTH_INSECURE_DEV_KEYS", "true");
    env.put("AUTH_BOOTSTRAP_ADMIN_USERNAME", TestServer.ADMIN);
    env.put("AUTH_BOOTSTRAP_ADMIN_PASSWORD", TestServer.ADMIN_PASSWORD);
    env.put("AUTH_ARGON2_MEMORY_KIB", "1024");
    env.put("AUTH_ARGON2_ITERATIONS", "1");
    return builder.start();
  }

  private static void awaitServing(ManagedChannel channel, Process process) throws InterruptedException {
    Await.until("the server to be SERVING", 150, () -> {
      assertTrue(process.isAlive(), "the server process died at start");
      try {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING;
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static AuthServiceGrpc.AuthServiceBlockingStub auth(ManagedChannel channel) {
    return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static UserAdminServiceGrpc.UserAdminServiceBlockingStub admin(ManagedChannel channel) {
    return UserAdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static LoginRequest login(String username, String password) {
    return LoginRequest.newBuilder().setUsername(username).setPassword(password).build();
  }
}
