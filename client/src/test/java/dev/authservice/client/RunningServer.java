package dev.authservice.client;

import dev.authservice.server.AuthServer;
import dev.authservice.server.ServerConfig;
import dev.authservice.server.password.HashParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/** A real auth server on loopback for the client's tests: embedded store, or MONGODB_URI when set. */
public final class RunningServer implements AutoCloseable {
  public static final String ADMIN = "admin";
  public static final String ADMIN_PASSWORD = "admin-Password-1";

  private final AuthServer server;

  public RunningServer() {
    this(newDirectory(), newDatabase());
  }

  /** A server on this data directory and database: a second one on the same pair is a restart, a new chain. */
  public RunningServer(Path dir, String database) {
    String uri = System.getenv("MONGODB_URI");
    server = AuthServer.start(ServerConfig.builder(dir)
        .mongoUri(uri == null || uri.isBlank() ? Optional.empty() : Optional.of(uri))
        .database(database)
        .hashParams(new HashParams(1024, 1, 1))
        .bootstrapAdmin(Optional.of(ADMIN), Optional.of(ADMIN_PASSWORD))
        // checkpoints soon after events, so exports made in a test carry some
        .auditCheckpointInterval(java.time.Duration.ofMillis(200))
        .build());
  }

  public static Path newDirectory() {
    try {
      return Files.createTempDirectory("auth-client-test-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String newDatabase() {
    return "auth_client_test_" + UUID.randomUUID().toString().substring(0, 8);
  }

  public String target() {
    return "127.0.0.1:" + server.port();
  }

  @Override
  public void close() {
    server.close();
  }
}
