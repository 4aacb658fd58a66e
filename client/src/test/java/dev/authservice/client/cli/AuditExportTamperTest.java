package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.authservice.client.Await;
import dev.authservice.client.AuthClient;
import dev.authservice.client.RunningServer;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * An export edited as an attacker would edit it, verified offline with authctl: the header's
 * start time is not signed, so it must never make the verifier trust a chain's first event or
 * accept a chain that is gone. Two chains: the server is restarted once on the same store.
 */
class AuditExportTamperTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static RunningServer server;
  private static Map<String, String> env;
  private static String firstChain;
  private static String secondChain;
  /** After a checkpoint of the second chain and before its later events. */
  private static Instant windowStart;
  private static Path keys;
  @TempDir Path dir;
  /** The servers' data directories and the audit keys, shared by the class's tests; removed after them. */
  @TempDir static Path shared;

  private static Cli.Run run(String... args) {
    return Cli.run(env, args);
  }

  private static String login(RunningServer on) {
    env = Map.of("AUTHCTL_TARGET", on.target());
    String token = Cli.login(on.target(), RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD);
    env = Map.of("AUTHCTL_TARGET", on.target(), "AUTHCTL_TOKEN", token);
    return token;
  }

  private static void validations(String token, int n) {
    for (int i = 0; i < n; i++) {
      assertEquals(0, run("validate", token).exit());
    }
  }

  /** Waits until a checkpoint matching {@code wanted} is stored; returns it. */
  private static AuditCheckpoint awaitCheckpoint(RunningServer on, String token, Predicate<AuditCheckpoint> wanted)
      throws InterruptedException {
    try (AuthClient client = AuthClient.builder().target(on.target()).plaintext().bearerToken(token).build()) {
      AtomicReference<List<AuditCheckpoint>> found = new AtomicReference<>(List.of());
      Await.until("a checkpoint came", 15, () -> !found.updateAndGet(none -> client.auditCheckpoints(
          ListAuditCheckpointsRequest.getDefaultInstance()).filter(wanted).toList()).isEmpty());
      return found.get().get(found.get().size() - 1);
    }
  }

  private static Instant time(AuditCheckpoint c) {
    return Instant.ofEpochSecond(c.getTime().getSeconds(), c.getTime().getNanos());
  }

  @BeforeAll
  static void start() throws Exception {
    Path data = Files.createDirectories(shared.resolve("data"));
    String database = RunningServer.newDatabase();
    try (RunningServer first = new RunningServer(data, database)) {
      String token = login(first);
      validations(token, 10);
      firstChain = awaitCheckpoint(first, token, c -> c.getSeq() >= 10).getChain();
    }
    server = new RunningServer(data, database);
    String token = login(server);
    validations(token, 10);
    AuditCheckpoint anchor = awaitCheckpoint(server, token, c -> !c.getChain().equals(firstChain) && c.getSeq() >= 10);
    secondChain = anchor.getChain();
    windowStart = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    assertTrue(!time(anchor).isAfter(windowStart), "the anchor is before the window");
    while (!Instant.now().truncatedTo(ChronoUnit.MILLIS).isAfter(windowStart)) {
      Thread.onSpinWait();
    }
    validations(token, 10);
    long head = anchor.getSeq() + 10;
    awaitCheckpoint(server, token, c -> c.getChain().equals(secondChain) && c.getSeq() >= head);
    Cli.Run keysRun = run("audit", "keys");
    assertEquals(ExitCodes.OK, keysRun.exit());
    keys = shared.resolve("audit-keys.json");
    Files.writeString(keys, keysRun.out());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private List<String> export(String... window) throws Exception {
    Path file = dir.resolve("export-" + System.nanoTime() + ".jsonl");
    List<String> args = new ArrayList<>(List.of("audit", "export", "--format", "jsonl", "--out", file.toString()));
    args.addAll(List.of(window));
    Cli.Run exported = run(args.toArray(String[]::new));
    assertEquals(ExitCodes.OK, exported.exit(), exported.err());
    return Files.readAllLines(file);
  }

  private Cli.Run verify(List<String> lines) throws Exception {
    Path file = dir.resolve("verify-" + System.nanoTime() + ".jsonl");
    Files.write(file, lines);
    return run("audit", "verify", "--file", file.toString(), "--keys", keys.toString());
  }

  private static JsonNode body(String line) {
    try {
      JsonNode node = JSON.readTree(line);
      return node.has("event") ? node.get("event") : node.get("checkpoint");
    } catch (java.io.IOException e) {
      throw new AssertionError(line, e);
    }
  }

  private static boolean isEventOf(String line, String chain) {
    return line.startsWith("{\"event\":") && body(line).path("chain").asText().equals(chain);
  }

  private static boolean isCheckpointOf(String line, String chain) {
    return line.startsWith("{\"checkpoint\":") && body(line).path("chain").asText().equals(chain);
  }

  /** The attacker's header: the export claims to start at the epoch, so nothing before it could be missing. */
  private static List<String> claimingAnEarlyStart(List<String> lines) {
    List<String> out = new ArrayList<>(lines);
    assertTrue(out.get(0).startsWith("{\"export\":{"), out.get(0));
    out.set(0, out.get(0).replace("\"start_time\":\"" + windowStart + "\",", "")
        .replace("{\"export\":{", "{\"export\":{\"start_time\":\"1970-01-01T00:00:00Z\","));
    return out;
  }

  private static String rowOf(Cli.Run run, String chain) {
    return run.out().lines().filter(l -> l.startsWith(chain + " ")).findFirst()
        .orElseThrow(() -> new AssertionError(chain + " is not reported:\n" + run.out()));
  }

  @Test
  void honestExportsVerifyWholeAndFromAStartTime() throws Exception {
    Cli.Run whole = verify(export());
    assertEquals(ExitCodes.OK, whole.exit(), whole.out() + whole.err());
    assertTrue(whole.out().contains("Window: the whole trail"), whole.out());

    List<String> windowed = export("--start", windowStart.toString());
    Cli.Run verified = verify(windowed);
    assertEquals(ExitCodes.OK, verified.exit(), verified.out() + verified.err());
    assertTrue(verified.out().contains("Window: from " + windowStart), verified.out());
    assertTrue(windowed.stream().noneMatch(l -> isEventOf(l, firstChain)), "the first chain ended before the window");
    long firstSeq = windowed.stream().filter(l -> isEventOf(l, secondChain))
        .mapToLong(l -> body(l).path("seq").asLong()).min().orElseThrow();
    assertTrue(firstSeq > 1, "the second chain starts at its checkpoint, not at seq 1: " + firstSeq);
    long anchorSeq = windowed.stream().filter(l -> isCheckpointOf(l, secondChain)
        && !Instant.parse(body(l).path("time").asText()).isAfter(windowStart))
        .mapToLong(l -> body(l).path("seq").asLong()).max().orElseThrow();
    assertEquals(anchorSeq + 1, firstSeq, "the events go on right after the anchoring checkpoint, whatever their time");

    Cli.Run bounded = verify(export("--start", windowStart.toString(), "--end", Instant.now().toString()));
    assertEquals(ExitCodes.OK, bounded.exit(), bounded.out() + bounded.err());
  }

  @Test
  void cuttingAChainsFirstEventsAndClaimingAnEarlyStartFails() throws Exception {
    List<String> lines = claimingAnEarlyStart(export());
    int removed = 0;
    for (int i = 0; i < lines.size() && removed < 3; i++) {
      if (isEventOf(lines.get(i), secondChain)) {
        lines.remove(i--);
        removed++;
      }
    }
    Cli.Run run = verify(lines);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, run.exit(), run.out());
    String row = rowOf(run, secondChain);
    assertTrue(row.contains("MISSING_EVENT") && row.contains("seq 1 to 3 are missing")
        && row.contains("no signed checkpoint at or before the start"), row);
  }

  @Test
  void deletingAWholeChainAndClaimingAnEarlyStartFails() throws Exception {
    List<String> lines = claimingAnEarlyStart(export());
    assertTrue(lines.removeIf(l -> isEventOf(l, firstChain)));
    Cli.Run run = verify(lines);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, run.exit(), run.out());
    String row = rowOf(run, firstChain);
    assertTrue(row.contains("CHAIN_MISSING") && row.contains("no events left"), row);
  }

  @Test
  void droppingTheAnchoringCheckpointOfAWindowedExportFails() throws Exception {
    List<String> windowed = export("--start", windowStart.toString());
    List<String> lines = new ArrayList<>(windowed);
    // the anchor alone: the checkpoint after it no longer links, and the first event has no signed head
    String anchor = lines.stream().filter(l -> isCheckpointOf(l, secondChain)
        && !Instant.parse(body(l).path("time").asText()).isAfter(windowStart)).reduce((a, b) -> b).orElseThrow();
    lines.remove(anchor);
    Cli.Run run = verify(lines);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, run.exit(), run.out());
    assertTrue(rowOf(run, secondChain).contains("MISSING_EVENT"), run.out());
    assertTrue(rowOf(run, secondChain).contains("no signed checkpoint at or before the start"), run.out());
    // and every checkpoint of the chain, so that no link gives the drop away: still no signed head
    lines.removeIf(l -> isCheckpointOf(l, secondChain));
    Cli.Run all = verify(lines);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, all.exit(), all.out());
    assertTrue(rowOf(all, secondChain).contains("MISSING_EVENT"), all.out());
  }

  @Test
  void olderAndNewerExportVersionsAreReadOrRefusedClearly() throws Exception {
    List<String> lines = export();
    assertTrue(lines.get(0).contains("\"version\":2"), lines.get(0));
    List<String> older = new ArrayList<>(lines);
    older.set(0, lines.get(0).replace("\"version\":2", "\"version\":1"));
    Cli.Run v1 = verify(older);
    assertEquals(ExitCodes.OK, v1.exit(), v1.out() + v1.err());
    List<String> newer = new ArrayList<>(lines);
    newer.set(0, lines.get(0).replace("\"version\":2", "\"version\":3"));
    Cli.Run v3 = verify(newer);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, v3.exit());
    assertTrue(v3.err().contains("says version 3; this authctl reads versions 1 to 2"), v3.err());
    Cli.Run headless = verify(lines.subList(1, lines.size()));
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, headless.exit());
    assertTrue(headless.err().contains("is not an export header"), headless.err());
    assertFalse(headless.err().contains("Exception"), headless.err());
  }
}
