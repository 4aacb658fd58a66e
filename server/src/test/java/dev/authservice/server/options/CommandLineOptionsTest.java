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
    assertTrue(refused("serve").startsWith("unexpected argument 'serve'"));
    assertTrue(refused("-p").startsWith("unexpected argument '-p'"));
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
