package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import dev.authservice.server.options.CommandLineOption;

/**
 * docs/settings.md is the reference operators read; the server's own options are the truth. Both
 * ways: every option of {@code auth-server} (its flag, the environment variable it reads, its
 * default) has a row saying the same, and every row is a real option or one of the few variables
 * read elsewhere. Defaults are taken from the options' declarations ({@link ServeCommand#OPTIONS}),
 * not from the environment, so a variable set in the environment running the tests (MONGODB_URI in
 * the MongoDB run of the suite) does not change what is compared.
 */
class SettingsReferenceTest {
  private static final Path REFERENCE = Path.of("..", "docs", "settings.md");
  private static final String HEADER = "| environment variable | flag | default | meaning |";
  private static final Pattern LITERAL = Pattern.compile("`([^`]*)`");
  private static final String OTEL = "ServeCommand.otlpTraces, the OpenTelemetry SDK's autoconfiguration";

  /**
   * Rows for variables that are not options of the server, with who reads them. Each must still have
   * its row, with no flag.
   */
  static final Map<String, String> NOT_OPTIONS = Map.ofEntries(
      // a secret: read from the environment only (ServeCommand.toConfig), never a flag that would show in ps;
      // --key-encryption-key-file is its option
      Map.entry("AUTH_KEY_ENCRYPTION_KEY", "ServeCommand.toConfig, System.getenv"),
      // read by logback's set-up (LogConfiguration) at start, before any option is parsed
      Map.entry("AUTH_LOG_LEVEL", "LogConfiguration, System.getenv"),
      // JVM options: read by the launcher (server/src/main/dist/bin/auth-server), which starts the JVM
      Map.entry("AUTH_JAVA_OPTS", "bin/auth-server"),
      // read by glibc's malloc; the launcher sets it, someone running the jar sets it themselves
      Map.entry("MALLOC_ARENA_MAX", "glibc, set by bin/auth-server"),
      Map.entry("MALLOC_MMAP_THRESHOLD_", "glibc, set by bin/auth-server"),
      Map.entry("GLIBC_TUNABLES", "glibc, set by bin/auth-server"),
      // the OpenTelemetry standard variables: ServeCommand.otlpTraces decides on them whether traces are
      // exported and hands them all to the SDK's autoconfiguration
      Map.entry("OTEL_TRACES_EXPORTER", OTEL),
      Map.entry("OTEL_EXPORTER_OTLP_ENDPOINT", OTEL),
      Map.entry("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", OTEL),
      Map.entry("OTEL_EXPORTER_OTLP_PROTOCOL", OTEL),
      Map.entry("OTEL_EXPORTER_OTLP_HEADERS", OTEL),
      Map.entry("OTEL_EXPORTER_OTLP_CERTIFICATE", OTEL),
      Map.entry("OTEL_SERVICE_NAME", OTEL),
      Map.entry("OTEL_RESOURCE_ATTRIBUTES", OTEL),
      Map.entry("OTEL_TRACES_SAMPLER", OTEL),
      Map.entry("OTEL_TRACES_SAMPLER_ARG", OTEL),
      Map.entry("OTEL_PROPAGATORS", OTEL));

  private Map<String, Row> rows;

  private record Row(String variable, String flag, String defaultCell) {}

  @BeforeEach
  void read() throws IOException {
    rows = table(Files.readString(REFERENCE, StandardCharsets.UTF_8));
  }

  @Test
  void everyOptionOfTheServerHasARowWithItsFlagVariableAndDefault() {
    List<String> problems = new ArrayList<>();
    for (CommandLineOption option : ServeCommand.OPTIONS.options()) {
      Row row = rows.get(option.variable());
      if (row == null) {
        problems.add("no row for " + option.variable() + " (" + option.flag() + ")");
        continue;
      }
      if (!row.flag().equals("`" + option.flag() + "`")) {
        problems.add(option.variable() + ": the table says flag " + row.flag() + ", the server has `"
            + option.flag() + "`");
      }
      Matcher literal = LITERAL.matcher(row.defaultCell());
      boolean tableGivesValue = literal.matches();
      if (!option.defaultValue().isEmpty()) {
        if (!tableGivesValue || !literal.group(1).equals(option.defaultValue())) {
          problems.add(option.variable() + ": the table says default " + row.defaultCell() + ", the server has `"
              + option.defaultValue() + "`");
        }
      } else if (tableGivesValue) {
        // no default in the code: the table says "unset", "empty" or what happens, never a value
        problems.add(option.variable() + ": the table says default " + row.defaultCell()
            + ", the server has none");
      }
    }
    assertTrue(problems.isEmpty(), "docs/settings.md disagrees with the server's options:\n  "
        + String.join("\n  ", problems));
  }

  @Test
  void everyRowOfTheTableIsARealSetting() {
    Map<String, CommandLineOption> byVariable = new LinkedHashMap<>();
    ServeCommand.OPTIONS.options().forEach(option -> byVariable.put(option.variable(), option));
    List<String> problems = new ArrayList<>();
    for (Row row : rows.values()) {
      if (byVariable.containsKey(row.variable())) {
        continue;
      }
      if (!NOT_OPTIONS.containsKey(row.variable())) {
        problems.add(row.variable() + " " + row.flag() + " is not an option of the server");
      } else if (!row.flag().isEmpty()) {
        problems.add(row.variable() + " is read by " + NOT_OPTIONS.get(row.variable())
            + ", not a flag of the server, but the table gives it " + row.flag());
      }
    }
    NOT_OPTIONS.keySet().stream().filter(variable -> !rows.containsKey(variable))
        .forEach(variable -> problems.add("no row for " + variable + " (read by " + NOT_OPTIONS.get(variable) + ")"));
    assertTrue(problems.isEmpty(), "docs/settings.md lists settings the server does not have:\n  "
        + String.join("\n  ", problems));
  }

  @Test
  void theServerWarnsOfNoVariableItReads() {
    // an AUTH_ variable read outside the options is known to the server, which warns of the others as typos
    java.util.Set<String> elsewhere = new java.util.TreeSet<>(NOT_OPTIONS.keySet());
    elsewhere.removeIf(variable -> !variable.startsWith("AUTH_"));
    assertEquals(elsewhere, new java.util.TreeSet<>(ServeCommand.READ_ELSEWHERE));
  }

  @Test
  void everyOptionIsReadIntoTheConfiguration() {
    dev.authservice.server.options.OptionValues values = ServeCommand.OPTIONS.parse(new String[0], Map.of());
    new ServeCommand(values).toConfig();
    assertEquals(java.util.Set.of(), values.unread(), "options that toConfig never reads");
  }

  @Test
  void theHelpListsEveryFlagWithItsVariableAndDefault() {
    // the comparison above reads the options' declarations; this ties them to what --help shows
    String help = ServeCommand.OPTIONS.help();
    List<CommandLineOption> options = ServeCommand.OPTIONS.options();
    assertTrue(options.size() > 50, "found the server's options: " + options.size());
    for (CommandLineOption option : options) {
      String shown = option.variable() + (option.defaultValue().isEmpty() ? "" : "; default: " + option.defaultValue());
      int at = help.indexOf("  " + option.flag() + (option.isSwitch() ? "[=true|false]" : "=VALUE") + "\n");
      assertTrue(at >= 0, option.flag() + " in --help");
      int next = help.indexOf("\n  --", at + 1);
      String entry = help.substring(at, next < 0 ? help.length() : next).replaceAll("\\s+", " ");
      assertTrue(entry.contains(shown), option.flag() + ": its --help entry says " + shown + ": " + entry);
    }
  }

  /** The rows of the settings table, by variable; a variable listed twice is a mistake in the table. */
  private static Map<String, Row> table(String markdown) {
    List<String> lines = markdown.lines().toList();
    int header = lines.indexOf(HEADER);
    assertTrue(header >= 0, "docs/settings.md has the table header " + HEADER);
    Map<String, Row> rows = new LinkedHashMap<>();
    for (String line : lines.subList(header + 2, lines.size())) {
      if (!line.startsWith("|")) {
        break;
      }
      String[] cells = line.split("\\|", -1);
      assertTrue(cells.length >= 6, "a row of four cells: " + line);
      Matcher variable = LITERAL.matcher(cells[1].trim());
      assertTrue(variable.matches(), "the first cell is a `VARIABLE`: " + line);
      Row row = new Row(variable.group(1), cells[2].trim(), cells[3].trim());
      assertFalse(rows.containsKey(row.variable()), row.variable() + " has one row");
      rows.put(row.variable(), row);
    }
    assertFalse(rows.isEmpty(), "the settings table has rows");
    return rows;
  }
}
