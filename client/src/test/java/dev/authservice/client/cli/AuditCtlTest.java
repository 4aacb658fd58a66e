package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.authservice.client.Await;
import dev.authservice.client.AuthClient;
import dev.authservice.client.RunningServer;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** authctl audit verify, keys and export against a real server, and an export verified offline. */
class AuditCtlTest {
  private static RunningServer server;
  private static Map<String, String> env;
  @TempDir Path dir;

  private static Cli.Run run(String... args) {
    return Cli.run(env, args);
  }

  @BeforeAll
  static void start() throws Exception {
    server = new RunningServer();
    env = Map.of("AUTHCTL_TARGET", server.target());
    String token = Cli.login(server.target(), RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD);
    env = Map.of("AUTHCTL_TARGET", server.target(), "AUTHCTL_TOKEN", token);
    for (int i = 0; i < 20; i++) {
      assertEquals(0, run("validate", token).exit());
    }
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, run("validate", "a.b.c").exit());
    try (AuthClient client = AuthClient.builder().target(server.target()).plaintext().bearerToken(token).build()) {
      Await.until("a checkpoint covers the events", 15, () -> client.auditCheckpoints(
          ListAuditCheckpointsRequest.getDefaultInstance()).anyMatch(c -> c.getSeq() >= 22));
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void verifyOnTheServerPrintsEveryChainAndExitsZeroOnACleanTrail() {
    Cli.Run verify = run("audit", "verify");
    assertEquals(ExitCodes.OK, verify.exit(), verify.out() + verify.err());
    assertTrue(verify.out().startsWith("CHAIN"), verify.out());
    assertTrue(verify.out().contains("OK: "), verify.out());
    Cli.Run windowed = run("audit", "verify", "--since", "PT1H");
    assertEquals(ExitCodes.OK, windowed.exit(), windowed.out());
  }

  @Test
  void anExportVerifiesOfflineWithThePublicKeysAndATamperedOneDoesNot() throws Exception {
    Path export = dir.resolve("export.jsonl");
    Cli.Run exported = run("audit", "export", "--format", "jsonl", "--out", export.toString());
    assertEquals(ExitCodes.OK, exported.exit(), exported.err());
    List<String> lines = Files.readAllLines(export);
    assertTrue(lines.get(0).startsWith("{\"export\":"), lines.get(0));
    assertTrue(lines.stream().filter(l -> l.startsWith("{\"event\":")).count() >= 20, "events exported");
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("{\"checkpoint\":")), "checkpoints exported");

    Path keys = dir.resolve("audit-keys.json");
    Cli.Run keysRun = run("audit", "keys");
    assertEquals(ExitCodes.OK, keysRun.exit());
    Files.writeString(keys, keysRun.out());
    assertTrue(keysRun.out().contains("\"Ed25519\""), keysRun.out());

    Cli.Run offline = run("audit", "verify", "--file", export.toString(), "--keys", keys.toString());
    assertEquals(ExitCodes.OK, offline.exit(), offline.out());

    List<String> tampered = new ArrayList<>(lines);
    for (int i = 0; i < tampered.size(); i++) {
      if (tampered.get(i).contains("\"reason\":\"VALIDATION_FAILURE_MALFORMED\"")) {
        tampered.set(i, tampered.get(i).replace("VALIDATION_FAILURE_MALFORMED", "ok"));
        break;
      }
    }
    Path altered = dir.resolve("altered.jsonl");
    Files.write(altered, tampered);
    Cli.Run detected = run("audit", "verify", "--file", altered.toString(), "--keys", keys.toString());
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, detected.exit(), detected.out());
    assertTrue(detected.out().contains("HASH_MISMATCH"), detected.out());

    Path foreignKeys = dir.resolve("other-keys.json");
    Files.writeString(foreignKeys, "{\"keys\":[]}");
    Cli.Run untrusted = run("audit", "verify", "--file", export.toString(), "--keys", foreignKeys.toString());
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, untrusted.exit(), "checkpoints signed by unknown keys are not trusted");
  }

  @Test
  void csvAndOcsfExportsHoldTheSameEvents() throws Exception {
    Cli.Run csv = run("audit", "export", "--format", "csv", "--type", "TOKEN_VALIDATE");
    assertEquals(ExitCodes.OK, csv.exit(), csv.err());
    List<CSVRecord> rows = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
        .parse(new java.io.StringReader(csv.out())).getRecords();
    assertTrue(rows.size() >= 21, "every validation: " + rows.size());
    assertTrue(rows.stream().allMatch(r -> r.get("type").equals("AUDIT_EVENT_TYPE_TOKEN_VALIDATE")));
    Cli.Run ocsf = run("audit", "export", "--format", "ocsf", "--type", "TOKEN_VALIDATE");
    assertEquals(ExitCodes.OK, ocsf.exit(), ocsf.err());
    String[] events = ocsf.out().trim().split("\n");
    assertEquals(rows.size(), events.length);
    JsonNode first = new ObjectMapper().readTree(events[0]);
    assertEquals(6003, first.get("class_uid").asInt());
    assertEquals(600302, first.get("type_uid").asLong());
    assertEquals(rows.get(0).get("id"), first.get("metadata").get("uid").asText());

    Cli.Run logins = run("audit", "export", "--format", "ocsf", "--type", "LOGIN");
    JsonNode login = new ObjectMapper().readTree(logins.out().trim().split("\n")[0]);
    assertEquals(3002, login.get("class_uid").asInt());
    assertEquals("admin", login.get("user").get("name").asText());
  }
}
