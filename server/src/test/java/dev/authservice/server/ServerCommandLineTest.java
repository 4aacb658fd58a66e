package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's command line as an operator meets it, in a JVM of its own: --help and --version,
 * and a setting it cannot take refused with exit status 2 and one line saying which setting, where
 * it came from and what is wrong, before anything starts (no stack trace, no data directory made);
 * a start that cannot finish ends the JVM with status 1 and its reason, never left running.
 */
class ServerCommandLineTest {
  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

  /**
   * A hash of 4 GiB in a JVM limited to 3.8 GiB of address space: the JVM serves in about 2.5 (its
   * reservations: the class space, the code cache, the heap, thread stacks), and no 4 GiB block fits.
   */
  private static final int LIMITED_HASH_KIB = 4 * 1024 * 1024;
  private static final long ADDRESS_SPACE_KIB = 4_000_000;
  /** What a server that is to get as far as its password hasher needs here. */
  private static final Map<String, String> STARTS = Map.of("AUTH_INSECURE_DEV_KEYS", "true", "AUTH_HTTP_PORT", "off",
      "AUTH_ADMIN_PORT", "off", "AUTH_PORT", "0");

  private static Map<String, String> starting(Map<String, String> settings) {
    Map<String, String> all = new java.util.HashMap<>(STARTS);
    all.putAll(settings);
    return all;
  }

  @Test
  void helpListsEverySettingWithItsVariableAndDefault() throws Exception {
    Run run = run(Map.of(), "--help");
    assertEquals(0, run.status(), run.err());
    assertTrue(run.out().startsWith("Usage: auth-server [--option=VALUE]...\n"), run.out());
    assertTrue(run.out().contains("  --port=VALUE\n        Port to listen on, 0 for any free one.\n"
        + "        AUTH_PORT; default: 50051\n"), run.out());
    assertTrue(run.out().contains("  --insecure-dev-keys[=true|false]\n"), run.out());
    assertEquals("auth-server 0.1.0\n", run(Map.of(), "--version").out());
  }

  @Test
  void aSettingTheServerCannotTakeIsOneLineAndStatusTwo() throws Exception {
    Run flag = run(Map.of(), "--port", "fifty");
    assertEquals(2, flag.status(), flag.err());
    assertEquals("auth-server: --port: 'fifty' is not a whole number\nauth-server --help lists every setting.\n",
        flag.err());
    Run variable = run(Map.of("AUTH_TOKEN_TTL", "15 minutes"));
    assertEquals(2, variable.status(), variable.err());
    assertTrue(variable.err().startsWith("auth-server: AUTH_TOKEN_TTL (for --token-ttl): '15 minutes' is not an"
        + " ISO-8601 duration"), variable.err());
    Run unknown = run(Map.of(), "--prot=1");
    assertEquals(2, unknown.status(), unknown.err());
    assertTrue(unknown.err().startsWith("auth-server: unknown option --prot\n"), unknown.err());
    for (Run refused : List.of(flag, variable, unknown)) {
      assertFalse(refused.err().contains("\tat ") || refused.out().contains("\tat "), "no stack trace: " + refused);
    }
    assertFalse(dir.resolve("data").toFile().exists(), "nothing started");
  }

  @Test
  void aValueASettingCheckedBeyondItsTypeRefusesIsStatusTwoToo() throws Exception {
    for (Map.Entry<String, String> setting : Map.of("AUTH_SIGNING_ALGORITHM", "HS256", "AUTH_AUDIT_RETENTION",
        "90 days", "AUTH_HTTP_PORT", "fifty", "AUTH_VALIDATION_AUDIT", "sometimes").entrySet()) {
      Run run = run(Map.of(setting.getKey(), setting.getValue()));
      assertEquals(2, run.status(), run.err());
      assertTrue(run.err().startsWith("auth-server: ") && run.err().contains(setting.getValue()), run.err());
      assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    }
    assertFalse(dir.resolve("data").toFile().exists(), "nothing started");
  }

  @Test
  void aConfigurationTheServerCannotRunWithIsStatusOneWithItsReason() throws Exception {
    Run run = run(Map.of("AUTH_KEY_ENCRYPTION_KEY_FILE", dir.resolve("no-such-key").toString()));
    assertEquals(1, run.status(), run.err());
    assertTrue(run.err().contains("auth-server: cannot read AUTH_KEY_ENCRYPTION_KEY_FILE"), run.err());
    assertTrue(run.err().contains("auth server failed to start"), "the cause is in the log: " + run.err());
    // the key file is read after every other value is checked: a typo elsewhere is what is reported
    Run both = run(Map.of("AUTH_KEY_ENCRYPTION_KEY_FILE", dir.resolve("no-such-key").toString(), "AUTH_PORT", "fifty"));
    assertEquals(2, both.status(), both.err());
    assertTrue(both.err().startsWith("auth-server: AUTH_PORT (for --port): 'fifty'"), both.err());
    assertFalse(dir.resolve("data").toFile().exists(), "nothing started");
  }

  @Test
  void aMistypedVariableIsWarnedOfWithTheSettingItsNameIsNear() throws Exception {
    // a typo that would otherwise leave Validate open to every caller without a word
    Run run = run(Map.of("AUTH_VALIDATE_REQUIRE_CALLERS", "true", "AUTH_PORT", "fifty"));
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().contains("AUTH_VALIDATE_REQUIRE_CALLERS is set but is no setting of the server, which"
        + " ignores it; did you mean AUTH_VALIDATE_REQUIRE_CALLER?"), run.err());
  }

  @Test
  void aMemoryCostNoMachineHasIsRefusedAsASetting() throws Exception {
    // 2 TiB per hash: refused before anything starts, not at the first login (or, on a fresh data
    // directory, at the bootstrap admin's hash, as an OutOfMemoryError)
    Run run = run(Map.of("AUTH_ARGON2_MEMORY_KIB", Integer.toString(Integer.MAX_VALUE)));
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().startsWith("auth-server: AUTH_ARGON2_MEMORY_KIB (for --argon2-memory-kib): 2147483647 KiB"
        + " is 2097151 MiB for each password hash, more than the "), run.err());
    assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
    assertFalse(dir.resolve("data").toFile().exists(), "nothing started");
  }

  @Test
  void nativeCodeThatWillNotLoadEndsTheStartWithItsReason() throws Exception {
    // as where JNA's temporary directory is mounted noexec: it may take its native part neither
    // from the jar nor from the system. The Error this is used to end the starting thread, and the
    // JVM went on running the store's threads, never serving and never exiting.
    Run run = run(List.of("-Djna.nosys=true", "-Djna.noclasspath=true"), starting(Map.of()));
    assertEquals(1, run.status(), run.err());
    assertTrue(run.err().contains("auth-server: the native code for Argon2id could not be loaded"), run.err());
    assertTrue(run.err().contains("name another with -Djna.tmpdir=DIR"), run.err());
    assertFalse(run.err().contains("Exception in thread"), run.err());
  }

  @Test
  void aHashWhoseMemoryCannotBeHadEndsTheStartWithItsReason() throws Exception {
    assumeHashOfAddressSpaceLimitFits();
    // the bootstrap admin's hash at start, in a JVM whose address space cannot take its 4 GiB: the
    // OutOfMemoryError of the hash's allocation used to end the starting thread and leave the JVM running
    Run run = run(List.of(), starting(Map.of("AUTH_ARGON2_MEMORY_KIB", Integer.toString(LIMITED_HASH_KIB),
        "AUTH_BOOTSTRAP_ADMIN_USERNAME", "admin", "AUTH_BOOTSTRAP_ADMIN_PASSWORD", "admin-Password-1")),
        ADDRESS_SPACE_KIB);
    assertEquals(1, run.status(), run.err());
    assertTrue(run.err().contains("no memory for an Argon2id hash: 4096 MiB could not be allocated"), run.err());
    assertTrue(run.err().contains("auth-server: bootstrap admin: the server has no memory for a password hash right"
        + " now"), run.err());
    assertFalse(run.err().contains("Exception in thread"), run.err());
  }

  @Test
  void aLoginWhoseHashCannotHaveItsMemoryIsUnavailableNotUnknown() throws Exception {
    assumeHashOfAddressSpaceLimitFits();
    // first the admin, hashed with 1 MiB; then the server again with a memory cost of 4 GiB in a JVM
    // that cannot have it. No hash at start: it serves.
    serve(Map.of("AUTH_ARGON2_MEMORY_KIB", "1024", "AUTH_ARGON2_ITERATIONS", "1", "AUTH_BOOTSTRAP_ADMIN_USERNAME",
        "admin", "AUTH_BOOTSTRAP_ADMIN_PASSWORD", "admin-Password-1"), 0, dir.resolve("first.log"), channel -> { });
    Path log = dir.resolve("limited.log");
    serve(Map.of("AUTH_ARGON2_MEMORY_KIB", Integer.toString(LIMITED_HASH_KIB), "AUTH_ROLLUP_FLUSH_INTERVAL", "PT1S"),
        ADDRESS_SPACE_KIB, log, channel -> {
      AuthServiceGrpc.AuthServiceBlockingStub auth = AuthServiceGrpc.newBlockingStub(channel);
      // an unknown name's check, against a dummy hash of the current 4 GiB, more times than the
      // failures that start the waits (5): none compared a password, so none is counted
      for (int i = 0; i < 7; i++) {
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> auth
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .login(LoginRequest.newBuilder().setUsername("nobody").setPassword("some-Password-1").build()));
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), "login " + i + ": " + refused);
        assertEquals("the server has no memory for a password hash right now; try again later",
            refused.getStatus().getDescription());
      }
      // the admin's hash of 1 MiB checks; its rehash with 4 GiB is left for a later login
      String token = auth.withDeadlineAfter(30, TimeUnit.SECONDS).login(LoginRequest.newBuilder().setUsername("admin")
          .setPassword("admin-Password-1").build()).getAccessToken();
      assertFalse(token.isEmpty());
      // each one in the trail, as a refusal (the first at once, the rest counted and flushed)
      AuthServiceGrpc.AuthServiceBlockingStub auditor = TestServer.withBearer(auth, token);
      Await.until("7 logins not checked in the trail", 30, () -> auditor.withDeadlineAfter(30, TimeUnit.SECONDS)
          .queryAudit(QueryAuditRequest.newBuilder().setUsername("nobody").setPageSize(20).build()).getEventsList()
          .stream().filter(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_LOGIN
              && e.getOutcome() == AuditOutcome.AUDIT_OUTCOME_FAILURE && e.getReason().equals("password_not_checked"))
          .mapToLong(e -> e.getCount()).sum() == 7);
    });
    String written = Files.readString(log, StandardCharsets.UTF_8);
    assertTrue(written.contains("a password could not be checked: no memory for an Argon2id hash: 4096 MiB could not"
        + " be allocated"), written);
    assertTrue(written.contains("password of user admin not rehashed with the current Argon2id parameters: no memory"
        + " for an Argon2id hash: 4096 MiB could not be allocated"), written);
    assertFalse(written.contains("some-Password-1") || written.contains("admin-Password-1"), "no password in the log");
  }

  /** A server on the test's data directory until {@code calls} are made; it must still serve after them. */
  private void serve(Map<String, String> settings, long addressSpaceKib, Path log, Calls calls) throws Exception {
    int port = ServerProcess.freePort();
    Map<String, String> all = new java.util.HashMap<>(settings);
    all.put("AUTH_PORT", Integer.toString(port));
    Process server = start(List.of(), starting(all), addressSpaceKib, log);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
      Await.until("SERVING", 90, java.time.Duration.ofMillis(200), () -> {
        assertTrue(server.isAlive(), "the server died at start");
        try {
          return serving(health);
        } catch (StatusRuntimeException e) {
          return false;
        }
      });
      calls.make(channel);
      assertTrue(server.isAlive() && serving(health), "the server goes on");
    } finally {
      channel.shutdownNow();
      server.destroy();
      if (!server.waitFor(20, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  private static boolean serving(HealthGrpc.HealthBlockingStub health) {
    return health.withDeadlineAfter(2, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus()
        == HealthCheckResponse.ServingStatus.SERVING;
  }

  private interface Calls {
    void make(ManagedChannel channel) throws Exception;
  }

  /** A hash of {@link #LIMITED_HASH_KIB} needs a machine with that memory, or it is refused as a setting. */
  private static void assumeHashOfAddressSpaceLimitFits() {
    org.junit.jupiter.api.Assumptions.assumeTrue(HashMemoryFit.machineMemoryBytes().orElse(0) > 6L << 30,
        "a machine of more than 6 GiB");
  }

  /** The server's main class with the test's class path, a small heap (no relaunch) and only {@code environment}. */
  private Run run(Map<String, String> environment, String... args) throws IOException, InterruptedException {
    return run(List.of(), environment, 0, args);
  }

  private Run run(List<String> jvmOptions, Map<String, String> environment) throws IOException, InterruptedException {
    return run(jvmOptions, environment, 0);
  }

  /** As {@link #run(Map, String...)}, with JVM options and, unless 0, a limit on the JVM's address space in KiB. */
  private Run run(List<String> jvmOptions, Map<String, String> environment, long addressSpaceKib, String... args)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process process = command(jvmOptions, environment, addressSpaceKib, args)
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    process.getOutputStream().close();
    boolean ended = process.waitFor(60, TimeUnit.SECONDS);
    if (!ended) {
      process.destroyForcibly();
    }
    assertTrue(ended, "the command ends: " + Files.readString(err, StandardCharsets.UTF_8));
    return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  /** The server in the background, its output to {@code log}. */
  private Process start(List<String> jvmOptions, Map<String, String> environment, long addressSpaceKib, Path log)
      throws IOException {
    Process process = command(jvmOptions, environment, addressSpaceKib).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    process.getOutputStream().close();
    return process;
  }

  private ProcessBuilder command(List<String> jvmOptions, Map<String, String> environment, long addressSpaceKib,
      String... args) {
    List<String> command = new ArrayList<>();
    if (addressSpaceKib > 0) {
      // ulimit -v: what a container's or a host's limit on the process does to a large allocation
      command.addAll(List.of("bash", "-c", "ulimit -v " + addressSpaceKib + " && exec \"$@\"", "bash"));
    }
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:TieredStopAtLevel=1"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    // nothing of the environment running the tests: its settings, and JVM options that would add a line
    builder.environment().keySet().removeIf(name -> name.startsWith("AUTH_") || name.equals("MONGODB_URI")
        || name.equals("JAVA_TOOL_OPTIONS") || name.equals("JDK_JAVA_OPTIONS") || name.startsWith("OTEL_"));
    builder.environment().put("AUTH_DATA_DIR", dir.resolve("data").toString());
    // glibc's arenas reserve 64 MiB of address space per busy thread: two keep the JVM's size steady under the limit
    builder.environment().put("MALLOC_ARENA_MAX", "2");
    builder.environment().putAll(environment);
    return builder;
  }
}
