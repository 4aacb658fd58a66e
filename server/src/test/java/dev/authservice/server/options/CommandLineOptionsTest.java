package dev.authservice.server.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Flags, environment variables and defaults, in that order, with errors that say what to change. */
class CommandLineOptionsTest {
  private final CommandLineOptions options = new CommandLineOptions("tool", "Does things.", List.of(
      CommandLineOption.of("--port", "X_PORT", "50051", "Port to listen on."),
      CommandLineOption.of("--name", "X_NAME", "", "A name; unset: none."),
      CommandLineOption.of("--wait", "X_WAIT", "PT1S", "How long to wait."),
      CommandLineOption.of("--dir", "X_DIR", "data", "Where."),
      CommandLineOption.onOff("--fast", "X_FAST", false, "Go fast."),
      CommandLineOption.onOff("--safe", "X_SAFE", true, "Stay safe.")));

  @Test
  void aFlagWinsOverItsVariableWhichWinsOverTheDefault() {
    assertEquals(50051, options.parse(new String[0], Map.of()).integer("--port"));
    assertEquals(7, options.parse(new String[0], Map.of("X_PORT", "7")).integer("--port"));
    assertEquals(8, options.parse(new String[] {"--port", "8"}, Map.of("X_PORT", "7")).integer("--port"));
    assertEquals(9, options.parse(new String[] {"--port=9"}, Map.of("X_PORT", "7")).integer("--port"));
    assertEquals(" 10 ", options.parse(new String[] {"--name= 10 "}, Map.of()).text("--name"), "text as given");
    assertEquals("", options.parse(new String[0], Map.of()).text("--name"), "no default: empty");
    assertEquals("", options.parse(new String[0], Map.of("X_PORT", "1", "X_NAME", "")).text("--name"),
        "a variable set empty is empty, not the default");
    assertEquals(Duration.ofMinutes(15), options.parse(new String[] {"--wait", "PT15M"}, Map.of()).duration("--wait"));
    assertEquals(Path.of("/srv/x"), options.parse(new String[0], Map.of("X_DIR", "/srv/x")).path("--dir"));
  }

  @Test
  void aSwitchAloneIsTrueAndTakesAnExplicitValue() {
    assertFalse(options.parse(new String[0], Map.of()).bool("--fast"));
    assertTrue(options.parse(new String[] {"--fast"}, Map.of()).bool("--fast"));
    assertTrue(options.parse(new String[] {"--fast", "--port", "1"}, Map.of()).bool("--fast"));
    assertFalse(options.parse(new String[] {"--safe", "false"}, Map.of()).bool("--safe"));
    assertFalse(options.parse(new String[] {"--safe=FALSE"}, Map.of()).bool("--safe"));
    assertFalse(options.parse(new String[] {"--fast"}, Map.of("X_SAFE", "false")).bool("--safe"));
    assertTrue(options.parse(new String[] {"--fast"}, Map.of("X_FAST", "false")).bool("--fast"), "the flag wins");
  }

  @Test
  void aValueOfTheWrongTypeNamesWhereItCameFrom() {
    assertEquals("--port: 'abc' is not a whole number", assertThrows(UsageException.class,
        () -> options.parse(new String[] {"--port=abc"}, Map.of()).integer("--port")).getMessage());
    assertEquals("X_PORT (for --port): '' is not a whole number", assertThrows(UsageException.class,
        () -> options.parse(new String[0], Map.of("X_PORT", "")).integer("--port")).getMessage());
    assertEquals("X_FAST (for --fast): 'yes' is neither true nor false", assertThrows(UsageException.class,
        () -> options.parse(new String[0], Map.of("X_FAST", "yes")).bool("--fast")).getMessage());
    assertEquals("--wait: '15m' is not an ISO-8601 duration such as PT15M, PT30S or P1D",
        assertThrows(UsageException.class,
            () -> options.parse(new String[] {"--wait", "15m"}, Map.of()).duration("--wait")).getMessage());
  }

  @Test
  void argumentsTheCommandDoesNotTakeAreRefused() {
    assertEquals("unknown option --prot", refused("--prot", "1"));
    assertEquals("--port is given twice", refused("--port=1", "--port", "2"));
    assertEquals("--port needs a value (--port=VALUE)", refused("--port"));
    assertEquals("--port needs a value (--port=VALUE)", refused("--port", "--fast"));
    assertEquals("argument 2 (6 characters) is not a --flag: every setting is a --flag=VALUE or its environment"
        + " variable", refused("--fast", "s3cret"), "a stray argument is not repeated: it may be half a password");
    assertFalse(refused("-name=s3cret").contains("s3cret"));
  }

  @Test
  void aPathIsTakenAsGivenAndBlanksAroundItAreRefused() {
    assertEquals(Path.of("/srv/a b"), options.parse(new String[] {"--dir=/srv/a b"}, Map.of()).path("--dir"));
    assertEquals("X_DIR (for --dir): '/srv/auth ' has blanks around it; remove them (or name a path that has none)",
        assertThrows(UsageException.class,
            () -> options.parse(new String[0], Map.of("X_DIR", "/srv/auth ")).path("--dir")).getMessage());
  }

  @Test
  void aDurationThatMayBeOffIsEmptyForZero() {
    assertTrue(options.parse(new String[] {"--wait=0"}, Map.of()).durationOrOff("--wait").isEmpty());
    assertTrue(options.parse(new String[] {"--wait=PT0S"}, Map.of()).durationOrOff("--wait").isEmpty());
    assertEquals(Duration.ofDays(90), options.parse(new String[] {"--wait= P90D"}, Map.of()).durationOrOff("--wait")
        .orElseThrow());
    assertThrows(UsageException.class, () -> options.parse(new String[] {"--wait=90"}, Map.of()).durationOrOff("--wait"));
  }

  @Test
  void theFlagsNotReadAreKnownAndAValueNeverShowsInItsDescription() {
    OptionValues values = options.parse(new String[] {"--name=s3cret"}, Map.of());
    values.text("--port");
    values.bool("--fast");
    assertEquals(java.util.Set.of("--dir", "--name", "--safe", "--wait"), values.unread());
    assertFalse(new OptionValues.Value("s3cret", "--name").toString().contains("s3cret"));
  }

  @Test
  void aVariableOfTheCommandsPrefixThatIsNoOptionsIsFoundWithTheNearestName() {
    Map<String, java.util.Optional<String>> unknown = options.unknownVariables(
        Map.of("X_FASTT", "true", "X_NAME", "a", "X_OTHER_THING", "1", "X_ELSEWHERE", "1", "Y_PORT", "1"), "X_",
        java.util.Set.of("X_ELSEWHERE"));
    assertEquals(Map.of("X_FASTT", java.util.Optional.of("X_FAST"), "X_OTHER_THING", java.util.Optional.empty()),
        unknown);
  }

  @Test
  void helpAndVersionAreAsked() {
    assertTrue(options.parse(new String[] {"-h"}, Map.of()).helpRequested());
    assertTrue(options.parse(new String[] {"--port=1", "--help"}, Map.of()).helpRequested());
    assertTrue(options.parse(new String[] {"-V"}, Map.of()).versionRequested());
    assertFalse(options.parse(new String[0], Map.of()).helpRequested());
  }

  @Test
  void theHelpGivesEachOptionItsVariableAndDefault() {
    String help = options.help();
    assertTrue(help.startsWith("Usage: tool [--option=VALUE]...\nDoes things.\n"), help);
    assertTrue(help.contains("  --port=VALUE\n        Port to listen on.\n        X_PORT; default: 50051\n"), help);
    assertTrue(help.contains("  --name=VALUE\n        A name; unset: none.\n        X_NAME\n"), help);
    assertTrue(help.contains("  --fast[=true|false]\n        Go fast.\n        X_FAST; default: false\n"), help);
    assertTrue(help.lines().allMatch(line -> line.length() <= 100), help);
  }

  @Test
  void aFlagOrVariableDeclaredTwiceIsTheCommandsMistake() {
    assertThrows(IllegalArgumentException.class, () -> new CommandLineOptions("t", "", List.of(
        CommandLineOption.of("--a", "A", "", ""), CommandLineOption.of("--a", "B", "", ""))));
    assertThrows(IllegalArgumentException.class, () -> new CommandLineOptions("t", "", List.of(
        CommandLineOption.of("--a", "A", "", ""), CommandLineOption.of("--b", "A", "", ""))));
    assertThrows(IllegalArgumentException.class, () -> CommandLineOption.of("-a", "A", "", ""));
  }

  private String refused(String... args) {
    return assertThrows(UsageException.class, () -> options.parse(args, Map.of())).getMessage();
  }
}
