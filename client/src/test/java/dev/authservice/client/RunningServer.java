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
import java.util.function.UnaryOperator;

/** A real auth server on loopback for the client's tests: embedded store, or MONGODB_URI when set. */
public final class RunningServer implements AutoCloseable {
  public static final String ADMIN = "admin";
  public static final String ADMIN_PASSWORD = "admin-Password-1";

  private final AuthServer server;
  /** The data directory this server made for itself, removed when it closes; empty when the test gave one. */
  private final Optional<Path> ownDirectory;

  public RunningServer() {
    this(newDirectory(), externalStore(), newDatabase(), UnaryOperator.identity(), true);
  }

  /** A server on this data directory and database: a second one on the same pair is a restart, a new chain. */
  public RunningServer(Path dir, String database) {
    this(dir, externalStore(), database, UnaryOperator.identity());
  }

  /**
   * One of several instances at once on the store at {@code mongoUri}, each with a data directory
   * (its spool) of its own, customized (an instance id, a checkpoint interval).
   */
  public RunningServer(Path dir, Optional<String> mongoUri, String database,
      UnaryOperator<ServerConfig.Builder> customize) {
    this(dir, mongoUri, database, customize, false);
  }

  private RunningServer(Path dir, Optional<String> mongoUri, String database,
      UnaryOperator<ServerConfig.Builder> customize, boolean ownsDirectory) {
    ownDirectory = ownsDirectory ? Optional.of(dir) : Optional.empty();
    try {
      server = AuthServer.start(customize.apply(ServerConfig.builder(dir)
          .mongoUri(mongoUri)
          .database(database)
          .hashParams(new HashParams(1024, 1, 1))
          .bootstrapAdmin(Optional.of(ADMIN), Optional.of(ADMIN_PASSWORD))
          // checkpoints soon after events, so exports made in a test carry some
          .auditCheckpointInterval(java.time.Duration.ofMillis(200)))
          .build());
    } catch (RuntimeException e) {
      ownDirectory.ifPresent(RunningServer::deleteTree);
      throw e;
    }
  }

  private static Optional<String> externalStore() {
    return Optional.ofNullable(System.getenv("MONGODB_URI")).filter(uri -> !uri.isBlank());
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
    ownDirectory.ifPresent(RunningServer::deleteTree);
  }

  /** Removes a test's directory and everything in it (tests run many servers; /tmp must not fill up). */
  public static void deleteTree(Path dir) {
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not remove the test directory " + dir, e);
    }
  }
}
