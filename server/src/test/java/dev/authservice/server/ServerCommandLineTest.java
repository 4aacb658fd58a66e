package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
  void aConfigurationTheServerCannotRunWithIsStatusOneWithItsReason() throws Exception {
    Run run = run(Map.of("AUTH_SIGNING_ALGORITHM", "HS256"));
    assertEquals(1, run.status(), run.err());
    assertTrue(run.err().contains("auth-server: ") && run.err().contains("HS256"), run.err());
    assertTrue(run.err().contains("auth server failed to start"), "the cause is in the log: " + run.err());
    assertFalse(dir.resolve("data").toFile().exists(), "nothing started");
  }

  /** The server's main class with the test's class path, a small heap (no relaunch) and only {@code environment}. */
  private Run run(Map<String, String> environment, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("AUTH_") || name.equals("MONGODB_URI"));
    builder.environment().put("AUTH_DATA_DIR", dir.resolve("data").toString());
    builder.environment().putAll(environment);
    Process process = builder.start();
    process.getOutputStream().close();
    byte[] out = process.getInputStream().readAllBytes();
    byte[] err = process.getErrorStream().readAllBytes();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the command ends");
    return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }
}
