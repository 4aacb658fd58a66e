package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import picocli.CommandLine;

/** Runs authctl in-process, as a user would from a shell, with its environment and standard input. */
final class Cli {
  /** What one run printed, and its exit code. */
  record Run(int exit, String out, String err) {}

  private Cli() {}

  static Run runWithInput(Map<String, String> env, String stdin, String... args) {
    CommandLine cli = AuthCtl.commandLine(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        env::get);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  static Run run(Map<String, String> env, String... args) {
    return runWithInput(env, "", args);
  }

  /** An access token for {@code username}, logged in through authctl with the password on standard input. */
  static String login(String target, String username, String password) {
    Run login = runWithInput(Map.of("AUTHCTL_TARGET", target), password + "\n", "login", username,
        "--password-stdin");
    assertEquals(0, login.exit(), login.err());
    return login.out().trim();
  }
}
