package dev.authservice.server.options;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A command's options: each a flag and an environment variable (the flag wins), parsed without
 * reflection. The server starts on every restart through here, and a library that reads the
 * options from annotations (picocli, which this replaced) cost a quarter of a second of that start
 * on two cores: its classes cannot be kept in the JDK's AOT cache (they are compiled for Java 5),
 * and it builds its model by reflection.
 *
 * <p>Accepted: {@code --flag=value}, {@code --flag value}; a switch also alone ({@code --flag},
 * true) or followed by {@code true} or {@code false}; {@code -h}/{@code --help} and
 * {@code -V}/{@code --version}. Refused: an unknown flag, a flag given twice, a flag without its
 * value, any other argument.
 */
public final class CommandLineOptions {
  private static final int WIDTH = 100;
  private static final String INDENT = "        ";

  private final String command;
  private final String summary;
  private final Map<String, CommandLineOption> byFlag = new LinkedHashMap<>();

  public CommandLineOptions(String command, String summary, List<CommandLineOption> options) {
    this.command = command;
    this.summary = summary;
    Map<String, String> variables = new HashMap<>();
    for (CommandLineOption option : options) {
      if (byFlag.putIfAbsent(option.flag(), option) != null) {
        throw new IllegalArgumentException("two options " + option.flag());
      }
      String other = variables.putIfAbsent(option.variable(), option.flag());
      if (other != null) {
        throw new IllegalArgumentException(other + " and " + option.flag() + " both read " + option.variable());
      }
    }
  }

  /** The options, in the order given. */
  public List<CommandLineOption> options() {
    return List.copyOf(byFlag.values());
  }

  /**
   * Each option's value from {@code args}, else {@code environment}, else its default.
   *
   * @throws UsageException for an argument this command does not take
   */
  public OptionValues parse(String[] args, Map<String, String> environment) {
    Map<String, String> given = new HashMap<>();
    boolean help = false;
    boolean version = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("-h") || arg.equals("--help")) {
        help = true;
        continue;
      }
      if (arg.equals("-V") || arg.equals("--version")) {
        version = true;
        continue;
      }
      if (!arg.startsWith("--")) {
        // not repeated: it may be the rest of a password a shell split on a space
        throw new UsageException("argument " + (i + 1) + " (" + arg.length() + " characters) is not a --flag:"
            + " every setting is a --flag=VALUE or its environment variable");
      }
      int equals = arg.indexOf('=');
      String flag = equals < 0 ? arg : arg.substring(0, equals);
      CommandLineOption option = byFlag.get(flag);
      if (option == null) {
        throw new UsageException("unknown option " + flag);
      }
      String value;
      if (equals >= 0) {
        value = arg.substring(equals + 1);
      } else if (option.isSwitch()) {
        boolean valueFollows = i + 1 < args.length
            && (args[i + 1].equalsIgnoreCase("true") || args[i + 1].equalsIgnoreCase("false"));
        value = valueFollows ? args[++i] : "true";
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        value = args[++i];
      } else {
        throw new UsageException(flag + " needs a value (" + flag + "=VALUE)");
      }
      if (given.put(flag, value) != null) {
        throw new UsageException(flag + " is given twice");
      }
    }
    Map<String, OptionValues.Value> values = new HashMap<>();
    for (CommandLineOption option : byFlag.values()) {
      String flagValue = given.get(option.flag());
      String fromEnvironment = environment.get(option.variable());
      values.put(option.flag(), flagValue != null ? new OptionValues.Value(flagValue, option.flag())
          : fromEnvironment != null ? new OptionValues.Value(fromEnvironment, option.variable())
          : new OptionValues.Value(option.defaultValue(), "the default"));
    }
    return new OptionValues(values, help, version);
  }

  /**
   * The variables in {@code environment} that start with {@code prefix} and are no option's and
   * not in {@code readElsewhere}: most likely a setting's name mistyped, which would otherwise be
   * ignored without a word (AUTH_VALIDATE_REQUIRE_CALLERS=true leaving Validate open to anyone).
   * Each with the option variable nearest to it, if one is near.
   */
  public Map<String, Optional<String>> unknownVariables(Map<String, String> environment, String prefix,
      Set<String> readElsewhere) {
    Map<String, Optional<String>> unknown = new TreeMap<>();
    Set<String> known = new HashSet<>(readElsewhere);
    byFlag.values().forEach(option -> known.add(option.variable()));
    for (String name : environment.keySet()) {
      if (name.startsWith(prefix) && !known.contains(name)) {
        unknown.put(name, known.stream().filter(k -> distance(k, name) <= 3)
            .min(Comparator.comparingInt((String k) -> distance(k, name)).thenComparing(k -> k)));
      }
    }
    return unknown;
  }

  /** Levenshtein distance: how many letters to add, drop or change to turn one name into the other. */
  private static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int change = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(change, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  /** What {@code --help} prints: every option with its variable and default. */
  public String help() {
    StringBuilder text = new StringBuilder();
    text.append("Usage: ").append(command).append(" [--option=VALUE]...\n");
    wrap(text, summary, "");
    text.append('\n');
    wrap(text, "Every option can also be set by its environment variable, named under it; the flag wins over"
        + " the variable.", "");
    text.append('\n');
    for (CommandLineOption option : byFlag.values()) {
      text.append("  ").append(option.flag()).append(option.isSwitch() ? "[=true|false]" : "=VALUE").append('\n');
      wrap(text, option.description(), INDENT);
      wrap(text, option.variable() + (option.defaultValue().isEmpty() ? "" : "; default: " + option.defaultValue()),
          INDENT);
    }
    text.append("  -h, --help\n").append(INDENT).append("Print this help and exit.\n");
    text.append("  -V, --version\n").append(INDENT).append("Print the version and exit.\n");
    return text.toString();
  }

  /** Appends {@code words} wrapped at {@link #WIDTH} columns, each line after {@code indent}. */
  private static void wrap(StringBuilder text, String words, String indent) {
    List<String> lines = new ArrayList<>();
    StringBuilder line = new StringBuilder(indent);
    for (String word : words.split(" ")) {
      if (word.isEmpty()) {
        continue;
      }
      if (line.length() > indent.length() && line.length() + 1 + word.length() > WIDTH) {
        lines.add(line.toString());
        line = new StringBuilder(indent);
      }
      if (line.length() > indent.length()) {
        line.append(' ');
      }
      line.append(word);
    }
    lines.add(line.toString());
    lines.forEach(l -> text.append(l).append('\n'));
  }
}
