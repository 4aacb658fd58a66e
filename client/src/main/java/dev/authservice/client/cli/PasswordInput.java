package dev.authservice.client.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Where a password comes from: one line of standard input, the AUTHCTL_PASSWORD variable, or (discouraged) a flag. */
final class PasswordInput {
  @Option(names = "--password-stdin", description = "Read the password from the first line of standard input.")
  boolean fromStdin;

  @Option(names = "--password", description = "The password (visible in ps and shell history: prefer --password-stdin"
      + " or AUTHCTL_PASSWORD).")
  String password;

  String read(picocli.CommandLine commandLine, InputStream stdin, java.util.function.Function<String, String> env) {
    if (password != null) {
      return password;
    }
    if (fromStdin) {
      try {
        String line = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)).readLine();
        if (line == null || line.isEmpty()) {
          throw new ParameterException(commandLine, "--password-stdin: standard input had no password line");
        }
        return line;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    String fromEnv = env.apply("AUTHCTL_PASSWORD");
    if (fromEnv != null && !fromEnv.isEmpty()) {
      return fromEnv;
    }
    throw new ParameterException(commandLine, "give the password with --password-stdin, AUTHCTL_PASSWORD or --password");
  }
}
