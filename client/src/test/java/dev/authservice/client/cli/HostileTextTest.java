package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.authservice.client.AuthClient;
import dev.authservice.client.RunningServer;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Logins anyone can attempt, with usernames and a user agent chosen to attack whoever reads the
 * trail: formulas for a spreadsheet that opens the CSV export, escape sequences and bidi
 * overrides for a terminal that shows the table.
 */
class HostileTextTest {
  /** A formula that runs a command when a spreadsheet evaluates it (the classic DDE payload). */
  private static final String USER_AGENT = "=cmd|' /C calc'!A0";
  private static final List<String> FORMULAS = List.of("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1",
      "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1");
  /** Sets the terminal's title, then a bidi override that shows "admin" reversed text as "admin". */
  private static final String ESCAPES = "\u001b]0;owned\u0007x\u009b2J\u202enimda\u2066";
  private static RunningServer server;
  private static Map<String, String> env;

  private static Cli.Run run(String... args) {
    return Cli.run(env, args);
  }

  @BeforeAll
  static void start() {
    server = new RunningServer();
    ManagedChannel channel = Grpc.newChannelBuilder(server.target(), InsecureChannelCredentials.create())
        .userAgent(USER_AGENT).build();
    try (AuthClient stranger = AuthClient.builder().channel(channel, true).build()) {
      for (String username : FORMULAS) {
        assertThrows(StatusRuntimeException.class, () -> stranger.login(username, "guess-Password-1", ""));
      }
      assertThrows(StatusRuntimeException.class, () -> stranger.login(ESCAPES, "guess-Password-1", ""));
    } finally {
      channel.shutdownNow();
    }
    env = Map.of("AUTHCTL_TARGET", server.target());
    env = Map.of("AUTHCTL_TARGET", server.target(), "AUTHCTL_TOKEN",
        Cli.login(server.target(), RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void theCsvExportShowsFormulasAsText() throws Exception {
    Cli.Run csv = run("audit", "export", "--format", "csv", "--type", "LOGIN", "--outcome", "failure");
    assertEquals(ExitCodes.OK, csv.exit(), csv.err());
    List<CSVRecord> rows = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
        .parse(new StringReader(csv.out())).getRecords();
    for (String formula : FORMULAS) {
      CSVRecord row = rows.stream().filter(r -> r.get("username").equals("'" + formula)).findFirst()
          .orElseThrow(() -> new AssertionError("no neutralised row for " + formula.codePointAt(0) + ": " + csv.out()));
      assertTrue(row.get("user_agent").startsWith("'" + USER_AGENT), row.get("user_agent"));
    }
    assertTrue(rows.stream().noneMatch(r -> r.values().length > 0 && r.stream().anyMatch(
        cell -> !cell.isEmpty() && "=+-@\t\r".indexOf(cell.charAt(0)) >= 0)), "no cell begins like a formula");
  }

  private static void assertNothingRaw(String out) {
    assertTrue(out.chars().noneMatch(c -> c != '\n' && TerminalText.unsafe(c)),
        "a raw control or bidi character reached the terminal: " + out.chars().filter(
            c -> c != '\n' && TerminalText.unsafe(c)).mapToObj(Integer::toHexString).toList());
  }

  @Test
  void theTableAndJsonShowControlAndBidiCharactersVisibly() throws Exception {
    Cli.Run table = run("audit", "--type", "LOGIN", "--outcome", "failure");
    assertEquals(ExitCodes.OK, table.exit(), table.err());
    assertNothingRaw(table.out());
    assertTrue(table.out().contains("\\x1b]0;owned\\x07x\\x9b2J\\u202enimda\\u2066"), table.out());
    assertTrue(table.out().contains("\\x09=1+1"), table.out());

    Cli.Run json = run("audit", "--type", "LOGIN", "--outcome", "failure", "--format", "jsonl", "--limit", "0");
    assertEquals(ExitCodes.OK, json.exit(), json.err());
    assertNothingRaw(json.out());
    assertTrue(json.out().lines().anyMatch(l -> {
      try {
        return new ObjectMapper().readTree(l).path("username").asText().equals(ESCAPES);
      } catch (java.io.IOException e) {
        throw new AssertionError(l, e);
      }
    }), "the JSON still holds the username exactly: " + json.out());
    assertFalse(json.out().contains("\u202e"));
  }
}
