package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.embedded.EmbeddedStore;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the server process under load: after a restart, every event whose RPC was
 * answered is in the store. The server runs as a child process on its own embedded store (or
 * on MONGODB_URI), exactly as a user starts it.
 */
class CrashTest {
  @TempDir Path dir;

  private Process startServer(int port, String database) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    // a heap option: the JVM started here is the server itself (without one, plain java relaunches
    // the server in a child JVM, and the signals and ports under test would be the parent's)
    ProcessBuilder builder = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp",
        System.getProperty("java.class.path"),
        "dev.authservice.server.Main")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()));
    Map<String, String> env = builder.environment();
    env.put("AUTH_PORT", Integer.toString(port));
    // no HTTP listeners: their default ports would clash with a parallel test's
    env.put("AUTH_HTTP_PORT", "off");
    env.put("AUTH_ADMIN_PORT", "off");
    env.put("AUTH_DATA_DIR", dir.resolve("data").toString());
    env.put("AUTH_MONGODB_DATABASE", database);
    env.put("AUTH_INSECURE_DEV_KEYS", "true");
    env.put("AUTH_BOOTSTRAP_ADMIN_USERNAME", TestServer.ADMIN);
    env.put("AUTH_BOOTSTRAP_ADMIN_PASSWORD", TestServer.ADMIN_PASSWORD);
    env.put("AUTH_ARGON2_MEMORY_KIB", "1024");
    env.put("AUTH_ARGON2_ITERATIONS", "1");
    env.put("AUTH_VALIDATE_FAILURE_LIMIT", "0");
    return builder.start();
  }

  private static void awaitServing(ManagedChannel channel, Process process) throws Exception {
    Await.until("the server process SERVING", 150, Duration.ofMillis(100), () -> {
      assertTrue(process.isAlive(), "the server process died at start");
      try {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING;
      } catch (StatusRuntimeException e) {
        return false;  // not up yet
      }
    });
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Test
  void everyAnsweredValidateSurvivesKillMinusNine() throws Exception {
    int port = freePort();
    String database = "auth_crash_" + UUID.randomUUID().toString().substring(0, 8);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    AuthServiceGrpc.AuthServiceBlockingStub auth = AuthServiceGrpc.newBlockingStub(channel);
    Process server = startServer(port, database);
    AtomicInteger answered = new AtomicInteger();
    try {
      awaitServing(channel, server);
      String token = auth.withDeadlineAfter(10, TimeUnit.SECONDS).login(LoginRequest.newBuilder()
          .setUsername(TestServer.ADMIN).setPassword(TestServer.ADMIN_PASSWORD).build()).getAccessToken();
      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService load = Executors.newFixedThreadPool(4);
      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        workers.add(load.submit(() -> {
          while (!stop.get()) {
            try {
              if (auth.withDeadlineAfter(5, TimeUnit.SECONDS)
                  .validate(ValidateRequest.newBuilder().setToken(token).build()).getActive()) {
                answered.incrementAndGet();
              }
            } catch (StatusRuntimeException e) {
              // the server is gone: expected after the kill
            }
          }
        }));
      }
      // killed under load: once 500 calls were answered, or with what answered within 10 s
      Await.within(10, () -> answered.get() >= 500);
      server.destroyForcibly();   // SIGKILL: no shutdown hook, no final commit
      server.waitFor(10, TimeUnit.SECONDS);
      stop.set(true);
      for (Future<?> worker : workers) {
        worker.get(20, TimeUnit.SECONDS);
      }
      load.shutdown();
      assertTrue(answered.get() > 0, "no load reached the server");

      server = startServer(port, database);
      awaitServing(channel, server);
      // the embedded store takes only the credential its process made, so it is read after that
      // process has ended, in this one, from the files the restarted server left
      server.destroy();
      assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the restarted server did not stop");
      long stored = storedValidations(database);
      assertTrue(stored >= answered.get(), "answered " + answered.get() + " validations, but only " + stored
          + " events survived the crash");
    } finally {
      server.destroy();
      server.waitFor(20, TimeUnit.SECONDS);
      channel.shutdownNow();
    }
  }

  /** Successful validations in the store: MONGODB_URI, or the embedded store's files in the data directory. */
  private long storedValidations(String database) {
    String external = System.getenv("MONGODB_URI");
    if (external != null && !external.isBlank()) {
      try (MongoClient client = MongoClients.create(external)) {
        return countValidations(client, database);
      }
    }
    try (EmbeddedStore store = EmbeddedStore.start(dir.resolve("data"));
        MongoClient client = MongoClients.create(store.clientSettings())) {
      return countValidations(client, database);
    }
  }

  private static long countValidations(MongoClient client, String database) {
    return client.getDatabase(database).getCollection("audit_events").countDocuments(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"), Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS")));
  }
}
