package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.authservice.client.AuthClient;
import dev.authservice.client.RunningServer;
import dev.authservice.client.integrity.ExportFile;
import dev.authservice.client.integrity.ProtoIntegrity;
import dev.authservice.integrity.Hashes;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import dev.authservice.embedded.EmbeddedStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Exports of a trail two instances write at once, edited as an attacker would edit them and
 * verified offline with authctl: every event the file holds must be checked or reported, and a
 * chain no checkpoint vouches for must not pass as merely unanchored. Instance A signs a
 * checkpoint every 200 ms; instance B none before it stops (its interval is an hour), so A's
 * checkpoints are the only ones naming B's chain, and an export from after one of them starts
 * B at seq 1, not at A's claim.
 */
class AuditExportMultiInstanceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MADE_UP = "auth-x:1700000000000";
  private static EmbeddedStore store;
  private static RunningServer a;
  private static RunningServer b;
  private static String token;
  private static String chainB;
  /** Right after A's checkpoint that names B's head, long before B's first own checkpoint. */
  private static Instant windowStart;
  private static Path keys;
  @TempDir Path dir;
  /** The servers' data directories and the audit keys, shared by the class's tests; removed after them. */
  @TempDir static Path shared;

  private static Cli.Run run(RunningServer on, String... args) {
    Map<String, String> env = token == null ? Map.of("AUTHCTL_TARGET", on.target())
        : Map.of("AUTHCTL_TARGET", on.target(), "AUTHCTL_TOKEN", token);
    return Cli.runWithInput(env, RunningServer.ADMIN_PASSWORD + "\n", args);
  }

  private static void validations(RunningServer on, int n) {
    for (int i = 0; i < n; i++) {
      assertEquals(0, run(on, "validate", token).exit());
    }
  }

  private static Instant time(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static List<AuditCheckpoint> checkpoints() {
    try (AuthClient client = AuthClient.builder().target(a.target()).plaintext().bearerToken(token).build()) {
      return client.auditCheckpoints(ListAuditCheckpointsRequest.getDefaultInstance()).toList();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    Path data = Files.createDirectories(shared.resolve("data"));
    String external = System.getenv("MONGODB_URI");
    Optional<String> uri;
    if (external == null || external.isBlank()) {
      store = EmbeddedStore.start(Files.createDirectories(data.resolve("store")));
      uri = Optional.of(store.uriWithCredential());
    } else {
      uri = Optional.of(external);
    }
    String database = RunningServer.newDatabase();
    a = new RunningServer(Files.createDirectories(data.resolve("a")), uri, database, c -> c.instanceId("auth-a"));
    b = new RunningServer(Files.createDirectories(data.resolve("b")), uri, database,
        c -> c.instanceId("auth-b").auditCheckpointInterval(Duration.ofHours(1)));
    Cli.Run login = run(b, "login", RunningServer.ADMIN, "--password-stdin");
    assertEquals(0, login.exit(), login.err());
    token = login.out().trim();
    validations(b, 10);
    validations(a, 3);
    // B's head now, and A's checkpoint that names it
    List<String> whole = exportLines(shared.resolve("whole.jsonl"));
    JsonNode headB = whole.stream().filter(l -> l.startsWith("{\"event\":")).map(l -> body(l))
        .filter(e -> e.path("instance").asText().equals("auth-b"))
        .max((x, y) -> Long.compare(x.path("seq").asLong(), y.path("seq").asLong())).orElseThrow();
    chainB = headB.path("chain").asText();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    AuditCheckpoint claim;
    while (true) {
      Optional<AuditCheckpoint> found = checkpoints().stream().filter(c -> c.getHeadsList().stream()
          .anyMatch(h -> h.getChain().equals(chainB) && h.getSeq() == headB.path("seq").asLong())).findFirst();
      if (found.isPresent()) {
        claim = found.get();
        break;
      }
      assertTrue(System.nanoTime() < deadline, "A's checkpoint names B's head");
      validations(a, 1);
    }
    assertTrue(checkpoints().stream().noneMatch(c -> c.getChain().equals(chainB)), "B signs none of its own yet");
    windowStart = time(claim.getTime()).plusMillis(1);
    while (!Instant.now().truncatedTo(ChronoUnit.MILLIS).isAfter(windowStart)) {
      Thread.onSpinWait();
    }
    // B goes on after the start, as a running instance does
    validations(b, 3);
    Cli.Run keysRun = run(a, "audit", "keys");
    assertEquals(ExitCodes.OK, keysRun.exit());
    keys = shared.resolve("audit-keys.json");
    Files.writeString(keys, keysRun.out());
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private static List<String> exportLines(Path file, String... window) throws IOException {
    List<String> args = new ArrayList<>(List.of("audit", "export", "--format", "jsonl", "--out", file.toString()));
    args.addAll(List.of(window));
    Cli.Run exported = run(a, args.toArray(String[]::new));
    assertEquals(ExitCodes.OK, exported.exit(), exported.err());
    return Files.readAllLines(file);
  }

  private List<String> export(String... window) throws IOException {
    return exportLines(dir.resolve("export-" + System.nanoTime() + ".jsonl"), window);
  }

  private Cli.Run verify(List<String> lines) throws IOException {
    Path file = dir.resolve("verify-" + System.nanoTime() + ".jsonl");
    Files.write(file, lines);
    return run(a, "audit", "verify", "--file", file.toString(), "--keys", keys.toString());
  }

  private static JsonNode body(String line) {
    try {
      JsonNode node = JSON.readTree(line);
      return node.has("event") ? node.get("event") : node.get("checkpoint");
    } catch (IOException e) {
      throw new AssertionError(line, e);
    }
  }

  private static boolean isEvent(String line, String chain, long seq) {
    return line.startsWith("{\"event\":") && body(line).path("chain").asText().equals(chain)
        && body(line).path("seq").asLong() == seq;
  }

  private static String rowOf(Cli.Run run, String chain) {
    return run.out().lines().filter(l -> l.startsWith(chain + " ")).findFirst()
        .orElseThrow(() -> new AssertionError(chain + " is not reported:\n" + run.out()));
  }

  /** An event of {@code chain} at {@code seq} after {@code prevHash}, at {@code time}, hashed correctly. */
  private static AuditEvent forged(AuditEvent template, String chain, long seq, String prevHash, Instant time) {
    Timestamp at = Timestamp.newBuilder().setSeconds(time.getEpochSecond()).setNanos(time.getNano()).build();
    AuditEvent unsealed = template.toBuilder().setId("forged-" + seq).setChain(chain).setSeq(seq)
        .setPrevHash(prevHash).setTime(at).setFirstTime(at).setLastTime(at).setUsername("mallory").setHash("").build();
    return unsealed.toBuilder().setHash(Hashes.of(ProtoIntegrity.event(unsealed))).build();
  }

  private static AuditEvent event(String line) {
    AuditEvent.Builder event = AuditEvent.newBuilder();
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(body(line).toString(), event);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(line, e);
    }
    return event.build();
  }

  /** The file plus a chain of three events made up at {@code from}, {@code from} + 1 s, + 2 s. */
  private static List<String> withMadeUpChain(List<String> lines, Instant from) {
    AuditEvent template = event(lines.stream().filter(l -> l.startsWith("{\"event\":")).findFirst().orElseThrow());
    List<String> out = new ArrayList<>(lines);
    String prev = Hashes.ZERO;
    for (int seq = 1; seq <= 3; seq++) {
      AuditEvent made = forged(template, MADE_UP, seq, prev, from.plusSeconds(seq - 1));
      out.add(ExportFile.line(made));
      prev = made.getHash();
    }
    return out;
  }

  private static Instant newestCheckpoint(List<String> lines) {
    return lines.stream().filter(l -> l.startsWith("{\"checkpoint\":"))
        .map(l -> Instant.parse(body(l).path("time").asText())).max(Instant::compareTo).orElseThrow();
  }

  @Test
  void aWindowedExportOfTwoRunningInstancesHasEveryEventItHoldsChecked() throws Exception {
    List<String> lines = export("--start", windowStart.toString());
    long firstSeqOfB = lines.stream().filter(l -> l.startsWith("{\"event\":"))
        .filter(l -> body(l).path("chain").asText().equals(chainB))
        .mapToLong(l -> body(l).path("seq").asLong()).min().orElseThrow();
    assertEquals(1, firstSeqOfB, "B has no checkpoint of its own before the start, so the server exports it whole");
    Cli.Run honest = verify(lines);
    assertEquals(ExitCodes.OK, honest.exit(), honest.out() + honest.err());
    assertFalse(honest.out().contains("not verified"), honest.out());
    // the newest checkpoint naming B in the file (the server may have signed a later one since)
    Instant newestNamingB = lines.stream().filter(l -> l.startsWith("{\"checkpoint\":")).map(l -> body(l))
        .filter(c -> c.path("chain").asText().equals(chainB) || java.util.stream.StreamSupport.stream(
            c.path("heads").spliterator(), false).anyMatch(h -> h.path("chain").asText().equals(chainB)))
        .map(c -> Instant.parse(c.path("time").asText())).max(Instant::compareTo).orElseThrow();
    assertTrue(rowOf(honest, chainB).contains(newestNamingB.truncatedTo(ChronoUnit.SECONDS).toString()),
        "B's row shows the newest checkpoint naming it: " + honest.out());

    // seq 3 of B lies before the head A's checkpoint names: edited without fixing its hash
    List<String> edited = new ArrayList<>(lines);
    int at = -1;
    for (int i = 0; i < edited.size(); i++) {
      if (isEvent(edited.get(i), chainB, 3)) {
        at = i;
      }
    }
    assertTrue(at > 0, "B's seq 3 is in the export");
    String original = edited.get(at);
    String username = "\"username\":\"" + body(original).path("username").asText() + "\"";
    assertTrue(original.contains(username), original);
    edited.set(at, original.replace(username, "\"username\":\"mallory\""));
    Cli.Run run = verify(edited);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, run.exit(), run.out());
    String row = rowOf(run, chainB);
    assertTrue(row.contains("HASH_MISMATCH") && row.matches(".* 3  event .*"), row);
  }

  private static boolean names(AuditCheckpoint c, String chain, long seq) {
    return c.getHeadsList().stream().anyMatch(h -> h.getChain().equals(chain) && h.getSeq() == seq);
  }

  /** A's newest checkpoint matching {@code wanted}, making A sign more until one does. */
  private static AuditCheckpoint awaitCheckpointOfA(String what, java.util.function.Predicate<AuditCheckpoint> wanted) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      Optional<AuditCheckpoint> found = checkpoints().stream().filter(c -> c.getChain().startsWith("auth-a:"))
          .filter(wanted).reduce((x, y) -> y);
      if (found.isPresent()) {
        return found.get();
      }
      assertTrue(System.nanoTime() < deadline, what);
      validations(a, 1);
    }
  }

  /**
   * B has stopped writing but not shut down (as a run that crashed): A names its head in every
   * checkpoint, not only when it moved, so a windowed export vouches for B's tail with checkpoints
   * the verifier links up from A's anchor. A claim made only before the start would be carried
   * unlinked, and an editor could drop it with the tail unseen; so the edit here drops every
   * checkpoint before the start that is not its chain's anchor, and cuts B's head.
   */
  @Test
  void aQuietChainThatDidNotShutDownIsVouchedForInsideTheWindow() throws Exception {
    long headOfB = export().stream().filter(l -> l.startsWith("{\"event\":")).map(l -> body(l))
        .filter(e -> e.path("chain").asText().equals(chainB)).mapToLong(e -> e.path("seq").asLong())
        .max().orElseThrow();
    AuditCheckpoint claim = awaitCheckpointOfA("A's checkpoint names B's head", c -> names(c, chainB, headOfB));
    AuditCheckpoint later = awaitCheckpointOfA("A signs a checkpoint after that",
        c -> time(c.getTime()).isAfter(time(claim.getTime())));
    assertTrue(names(later, chainB, headOfB), "B has not moved, and A names it again: " + later);
    Instant start = time(later.getTime()).plusMillis(1);
    while (!Instant.now().truncatedTo(ChronoUnit.MILLIS).isAfter(start)) {
      Thread.onSpinWait();
    }
    awaitCheckpointOfA("A signs a checkpoint after the start", c -> time(c.getTime()).isAfter(start));

    List<String> lines = export("--start", start.toString());
    Cli.Run honest = verify(lines);
    assertEquals(ExitCodes.OK, honest.exit(), honest.out() + honest.err());

    Map<String, Long> anchors = new java.util.HashMap<>();
    lines.stream().filter(l -> l.startsWith("{\"checkpoint\":")).map(l -> body(l))
        .filter(c -> !Instant.parse(c.path("time").asText()).isAfter(start))
        .forEach(c -> anchors.merge(c.path("chain").asText(), c.path("seq").asLong(), Math::max));
    List<String> edited = lines.stream().filter(l -> !isEvent(l, chainB, headOfB))
        .filter(l -> !l.startsWith("{\"checkpoint\":") || Instant.parse(body(l).path("time").asText()).isAfter(start)
            || anchors.get(body(l).path("chain").asText()) == body(l).path("seq").asLong())
        .toList();
    Cli.Run truncated = verify(edited);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, truncated.exit(), truncated.out());
    assertTrue(rowOf(truncated, chainB).contains("CHAIN_TRUNCATED"), truncated.out());
  }

  @Test
  void aMadeUpChainOlderThanACheckpointThatLeavesItOutFails() throws Exception {
    List<String> lines = export();
    Cli.Run madeUp = verify(withMadeUpChain(lines, newestCheckpoint(lines).minus(Duration.ofMinutes(10))));
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, madeUp.exit(), madeUp.out());
    String row = rowOf(madeUp, MADE_UP);
    assertTrue(row.contains("UNVOUCHED_CHAIN") && row.contains("3 events from seq 1 on are older than the signed"
        + " checkpoint of"), row);
    assertTrue(row.matches(MADE_UP + " +3 +3 +- +UNVOUCHED_CHAIN .*"), "no checkpoint names it: " + row);

    // a chain newer than every checkpoint may be a new instance's: unanchored, not a problem
    Cli.Run fresh = verify(withMadeUpChain(lines, newestCheckpoint(lines).plus(Duration.ofMinutes(1))));
    assertEquals(ExitCodes.OK, fresh.exit(), fresh.out());
    assertTrue(rowOf(fresh, MADE_UP).matches(MADE_UP + " +3 +3 +- +- .*"), fresh.out());
  }

  @Test
  void anEventThatNamesNoChainFails() throws Exception {
    List<String> lines = new ArrayList<>(export());
    AuditEvent template = event(lines.stream().filter(l -> l.startsWith("{\"event\":")).findFirst().orElseThrow());
    lines.add(ExportFile.line(template.toBuilder().setId("forged").setUsername("mallory").clearChain().clearSeq()
        .clearPrevHash().clearHash().build()));
    Cli.Run run = verify(lines);
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, run.exit(), run.out());
    assertTrue(rowOf(run, "(no chain)").contains("UNLINKED_EVENT"), run.out());
  }
}
