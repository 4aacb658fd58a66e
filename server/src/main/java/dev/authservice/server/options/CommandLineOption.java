package dev.authservice.server.options;

import java.util.Objects;

/**
 * One setting of a command: its flag, the environment variable read when the flag is not given,
 * the default when neither is, and what it does.
 *
 * @param flag the long flag, such as {@code --port}
 * @param variable the environment variable, such as {@code AUTH_PORT}
 * @param defaultValue the value when neither is given; empty: none (the command decides what unset means)
 * @param isSwitch a switch may be given alone ({@code --x}, meaning true) as well as with a value
 * @param description what it does, for {@code --help}; the variable and the default are added there
 */
public record CommandLineOption(String flag, String variable, String defaultValue, boolean isSwitch,
    String description) {
  public CommandLineOption {
    Objects.requireNonNull(defaultValue, "defaultValue");
    Objects.requireNonNull(description, "description");
    if (!flag.matches("--[a-z0-9]+(-[a-z0-9]+)*")) {
      throw new IllegalArgumentException("a flag is --lower-case-words: " + flag);
    }
    if (!variable.matches("[A-Z][A-Z0-9_]*")) {
      throw new IllegalArgumentException("an environment variable is UPPER_CASE: " + variable);
    }
  }

  /** A setting that takes a value. */
  public static CommandLineOption of(String flag, String variable, String defaultValue, String description) {
    return new CommandLineOption(flag, variable, defaultValue, false, description);
  }

  /** A true/false setting that may be given alone. */
  public static CommandLineOption onOff(String flag, String variable, boolean defaultValue, String description) {
    return new CommandLineOption(flag, variable, Boolean.toString(defaultValue), true, description);
  }
}
