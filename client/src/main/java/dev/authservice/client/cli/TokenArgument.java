package dev.authservice.client.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** A token given as an argument, or else as the first line of standard input (keeps it out of ps). */
final class TokenArgument {
  private TokenArgument() {}

  static String orStdin(String argument, InputStream stdin, CommandLine commandLine) {
    if (argument != null && !argument.isBlank()) {
      return argument.trim();
    }
    try {
      String line = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)).readLine();
      if (line == null || line.isBlank()) {
        throw new CommandLine.ParameterException(commandLine, "give the token as an argument or on standard input");
      }
      return line.trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
