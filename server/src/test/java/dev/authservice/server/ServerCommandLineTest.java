package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * it came from and what is wrong, before anything starts (no stack trace, no data directory made).
 */
class ServerCommandLineTest {
  @TempDir Path dir;

  private record Run(int status, String out, String err) {}

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

  /** The server's main class with the test's class path, a small heap (no relaunch) and only {@code environment}. */
  private Run run(Map<String, String> environment, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    // nothing of the environment running the tests: its settings, and JVM options that would add a line
    builder.environment().keySet().removeIf(name -> name.startsWith("AUTH_") || name.equals("MONGODB_URI")
        || name.equals("JAVA_TOOL_OPTIONS") || name.equals("JDK_JAVA_OPTIONS") || name.startsWith("OTEL_"));
    builder.environment().put("AUTH_DATA_DIR", dir.resolve("data").toString());
    builder.environment().putAll(environment);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    process.getOutputStream().close();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the command ends");
    return new Run(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }
}
