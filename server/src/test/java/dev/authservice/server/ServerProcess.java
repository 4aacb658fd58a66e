package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The server as a separate JVM, started with the test classpath and the main class the way
 * {@code java -jar} starts the shaded jar, configured only by {@code AUTH_*} environment
 * variables, on a store the test names, with a data directory and a log file of its own.
 */
final class ServerProcess implements AutoCloseable {
  private final String instanceId;
  private final Path log;
  private final int port;
  private final Process process;
  private final ManagedChannel channel;

  private ServerProcess(String instanceId, Path log, int port, Process process) {
    this.instanceId = instanceId;
    this.log = log;
    this.port = port;
    this.process = process;
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /**
   * Starts a server on {@code storeUri}/{@code database}, its data in {@code dir}/instanceId;
   * {@code env} adds or overrides settings. Returns at once: call {@link #awaitServing}.
   */
  static ServerProcess start(String instanceId, String storeUri, String database, Path dir, Map<String, String> env)
      throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = dir.resolve(instanceId + ".log");
    int port = freePort();
    // small fixed heaps and the simple collector: three servers and the test share two cores
    ProcessBuilder builder = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "dev.authservice.server.Main"))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> environment = builder.environment();
    environment.put("MONGODB_URI", storeUri);
    environment.put("AUTH_MONGODB_DATABASE", database);
    environment.put("AUTH_PORT", Integer.toString(port));
    environment.put("AUTH_HTTP_PORT", "off");
    environment.put("AUTH_ADMIN_PORT", "off");
    environment.put("AUTH_DATA_DIR", dir.resolve(instanceId).toString());
    environment.put("AUTH_INSTANCE_ID", instanceId);
    environment.put("AUTH_INSECURE_DEV_KEYS", "true");
    environment.put("AUTH_BOOTSTRAP_ADMIN_USERNAME", TestServer.ADMIN);
    environment.put("AUTH_BOOTSTRAP_ADMIN_PASSWORD", TestServer.ADMIN_PASSWORD);
    environment.put("AUTH_ARGON2_MEMORY_KIB", "1024");
    environment.put("AUTH_ARGON2_ITERATIONS", "1");
    environment.putAll(env);
    return new ServerProcess(instanceId, log, port, builder.start());
  }

  void awaitServing() throws InterruptedException {
    Await.until(instanceId + " SERVING", 90, Duration.ofMillis(200), () -> {
      assertTrue(process.isAlive(), instanceId + " died at start:\n" + log());
      try {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING;
      } catch (StatusRuntimeException e) {
        return false;  // not up yet
      }
    });
  }

  String instanceId() {
    return instanceId;
  }

  AuthServiceGrpc.AuthServiceBlockingStub auth() {
    return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  ManagedChannel channel() {
    return channel;
  }

  /** SIGKILL: no shutdown hook, no final flush or checkpoint. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    assertTrue(process.waitFor(20, TimeUnit.SECONDS), instanceId + " did not die");
  }

  /** What the process has printed so far. */
  String log() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops the process gracefully (its shutdown checkpoint), forcibly if it does not stop in time. */
  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
