package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

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
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * authctl keys rotate --audit against a real server: checkpoints before and after the rotation
 * carry different kids, and an export of both verifies offline with the published keys.
 */
class KeysCtlTest {
  @TempDir Path dir;

  private static Cli.Run run(Map<String, String> env, String... args) {
    return Cli.run(env, args);
  }

  private static String kidOf(String jws) {
    try {
      return new ObjectMapper().readTree(Base64.getUrlDecoder().decode(jws.split("\\.")[0])).get("kid").asText();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void awaitCheckpointSignedWith(AuthClient client, Map<String, String> env, String kid)
      throws Exception {
    Set<String> kids = new HashSet<>();
    // each look runs authctl once, for an event to checkpoint: one every 50 ms
    Await.until("a checkpoint signed with " + kid + " (signed with " + kids + " so far)", 15, Duration.ofMillis(50),
        () -> {
          assertEquals(ExitCodes.INACTIVE_OR_FAILED, run(env, "validate", "a.b.c").exit(), "an event to checkpoint");
          client.auditCheckpoints(ListAuditCheckpointsRequest.getDefaultInstance())
              .forEach(c -> kids.add(kidOf(c.getSignature())));
          return kids.contains(kid);
        });
  }

  @Test
  void rotatingTheAuditKeyKeepsEveryCheckpointVerifiableOffline() throws Exception {
    try (RunningServer server = new RunningServer()) {
      String token = Cli.login(server.target(), RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD);
      Map<String, String> env = Map.of("AUTHCTL_TARGET", server.target(), "AUTHCTL_TOKEN", token);

      try (AuthClient client = AuthClient.builder().target(server.target()).plaintext().bearerToken(token).build()) {
        Cli.Run before = run(env, "audit", "keys");
        JsonNode firstKey = new ObjectMapper().readTree(before.out()).get("keys").get(0);
        awaitCheckpointSignedWith(client, env, firstKey.get("kid").asText());

        Cli.Run rotated = run(env, "keys", "rotate", "--audit");
        assertEquals(ExitCodes.OK, rotated.exit(), rotated.err());
        JsonNode rotation = new ObjectMapper().readTree(rotated.out());
        assertEquals(firstKey.get("kid").asText(), rotation.get("previousKid").asText(), rotated.out());
        assertNotEquals(rotation.get("previousKid").asText(), rotation.get("kid").asText());
        awaitCheckpointSignedWith(client, env, rotation.get("kid").asText());
      }

      Path keys = dir.resolve("audit-keys.json");
      Cli.Run keysRun = run(env, "audit", "keys");
      Files.writeString(keys, keysRun.out());
      assertEquals(2, new ObjectMapper().readTree(keysRun.out()).get("keys").size(), "both audit keys are published");
      Path export = dir.resolve("trail.jsonl");
      assertEquals(ExitCodes.OK, run(env, "audit", "export", "--format", "jsonl", "--out", export.toString()).exit());
      Cli.Run offline = run(env, "audit", "verify", "--file", export.toString(), "--keys", keys.toString());
      assertEquals(ExitCodes.OK, offline.exit(), offline.out() + offline.err());
    }
  }
}
