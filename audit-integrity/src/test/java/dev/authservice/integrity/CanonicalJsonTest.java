package dev.authservice.integrity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.erdtman.jcs.JsonCanonicalizer;
import org.junit.jupiter.api.Test;

/** The canonical encoding is RFC 8785: the same bytes as the RFC's reference implementation. */
class CanonicalJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static String randomText(Random random) {
    StringBuilder s = new StringBuilder();
    int n = random.nextInt(12);
    for (int i = 0; i < n; i++) {
      int kind = random.nextInt(6);
      s.appendCodePoint(switch (kind) {
        case 0 -> random.nextInt(0x20);
        case 1 -> "\"\\/\u007f".charAt(random.nextInt(4));
        case 2 -> 0x80 + random.nextInt(0x700);
        case 3 -> 0x1F600 + random.nextInt(50);
        case 4 -> 0x2028 + random.nextInt(2);
        default -> 'a' + random.nextInt(26);
      });
    }
    return s.toString();
  }

  private static ChainedEvent event(Random random) {
    Optional<ChainedEvent.Alert> alert = random.nextBoolean() ? Optional.empty()
        : Optional.of(new ChainedEvent.Alert(randomText(random), "high", randomText(random),
            List.of(randomText(random), randomText(random)), random.nextInt(1000)));
    return new ChainedEvent(randomText(random), random.nextLong(1L << 45), "AUDIT_EVENT_TYPE_LOGIN",
        "AUDIT_OUTCOME_FAILURE", randomText(random), randomText(random), randomText(random), randomText(random),
        randomText(random), randomText(random), randomText(random), randomText(random), randomText(random),
        randomText(random), 1 + random.nextInt(5), random.nextLong(1L << 45), random.nextLong(1L << 45), alert,
        randomText(random), random.nextLong(1L << 40), Hashes.ZERO, "");
  }

  @Test
  void encodingEqualsTheReferenceImplementationForHostileStrings() throws Exception {
    Random random = new Random(42);
    for (int i = 0; i < 500; i++) {
      ChainedEvent e = event(random);
      byte[] ours = CanonicalJson.encode(e.canonicalMembers());
      byte[] reference = new JsonCanonicalizer(JSON.writeValueAsString(e.canonicalMembers())).getEncodedUTF8();
      assertArrayEquals(reference, ours, () -> new String(ours, StandardCharsets.UTF_8));
    }
  }

  @Test
  void theDocumentedExampleHashesAsDocsIntegrityMdSays() {
    ChainedEvent e = new ChainedEvent("0193a6e4-2f1c-7abc-8def-0123456789ab", 1780000000000L, "AUDIT_EVENT_TYPE_LOGIN",
        "AUDIT_OUTCOME_SUCCESS", "alice", "7c1f0e5a-0000-4000-8000-000000000001", "", "10.0.0.7", "grpc-java/1.85",
        "auth.v1.AuthService/Login", "", "auth-1", "", "", 1, 1780000000000L, 1780000000000L, Optional.empty(),
        "auth-1:1779999990000", 1, Hashes.ZERO, "");
    String canonical = new String(CanonicalJson.encode(e.canonicalMembers()), StandardCharsets.UTF_8);
    assertEquals("{\"actor\":\"\",\"chain\":\"auth-1:1779999990000\",\"client_ip\":\"10.0.0.7\",\"count\":1,"
        + "\"first_time\":1780000000000,\"id\":\"0193a6e4-2f1c-7abc-8def-0123456789ab\",\"instance\":\"auth-1\","
        + "\"last_time\":1780000000000,\"outcome\":\"AUDIT_OUTCOME_SUCCESS\",\"peer_identity\":\"\","
        + "\"prev_hash\":\"" + Hashes.ZERO + "\",\"reason\":\"\",\"rpc_method\":\"auth.v1.AuthService/Login\","
        + "\"seq\":1,\"subject\":\"7c1f0e5a-0000-4000-8000-000000000001\",\"time\":1780000000000,"
        + "\"token_id\":\"\",\"type\":\"AUDIT_EVENT_TYPE_LOGIN\",\"user_agent\":\"grpc-java/1.85\","
        + "\"username\":\"alice\"}", canonical);
    assertEquals(Hashes.sha256(canonical.getBytes(StandardCharsets.UTF_8)), Hashes.of(e));
    assertNotEquals(Hashes.of(e), Hashes.of(e.atSeq(2)), "the position is part of what is hashed");
    assertEquals("4ed42f9c4138f591403c7d1dd48d0c406c5e22fcb85ed8057358d88259a763c4", Hashes.of(e),
        "the example in docs/integrity.md");
  }

  @Test
  void aTraceIdIsHashedOnlyWhenThereIsOneSoEarlierEventsKeepTheirHashes() {
    ChainedEvent e = new ChainedEvent("0193a6e4-2f1c-7abc-8def-0123456789ab", 1780000000000L, "AUDIT_EVENT_TYPE_LOGIN",
        "AUDIT_OUTCOME_SUCCESS", "alice", "7c1f0e5a-0000-4000-8000-000000000001", "", "10.0.0.7", "grpc-java/1.85",
        "auth.v1.AuthService/Login", "", "auth-1", "", "", "", 1, 1780000000000L, 1780000000000L, Optional.empty(),
        "auth-1:1779999990000", 1, Hashes.ZERO, "");
    assertEquals("4ed42f9c4138f591403c7d1dd48d0c406c5e22fcb85ed8057358d88259a763c4", Hashes.of(e),
        "an empty trace id is not encoded: the documented hash stands");
    ChainedEvent traced = new ChainedEvent(e.id(), e.time(), e.type(), e.outcome(), e.username(), e.subject(),
        e.tokenId(), e.clientIp(), e.userAgent(), e.rpcMethod(), e.reason(), e.instance(), e.actor(), e.peerIdentity(),
        "4bf92f3577b34da6a3ce929d0e0e4736", e.count(), e.firstTime(), e.lastTime(), e.alert(), e.chain(), e.seq(),
        e.prevHash(), e.hash());
    String canonical = new String(CanonicalJson.encode(traced.canonicalMembers()), StandardCharsets.UTF_8);
    assertTrue(canonical.contains(",\"token_id\":\"\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"type\":"),
        canonical);
    assertNotEquals(Hashes.of(e), Hashes.of(traced));
  }
}
