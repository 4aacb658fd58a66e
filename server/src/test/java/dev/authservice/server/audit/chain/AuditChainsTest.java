package dev.authservice.server.audit.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Hashes;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link AuditEvent} (the server's event) and {@link ChainedEvent} (what the integrity layer hashes,
 * shared with offline verification) are one shape in two modules: field for field, in the same
 * order. A field added to one and not the other, or not carried by {@link AuditChains#toChained},
 * fails here instead of going unhashed.
 */
class AuditChainsTest {
  private static List<String> names(Class<? extends Record> type) {
    return Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList();
  }

  @Test
  void theEventAndWhatItsHashCoversHaveTheSameFields() {
    assertEquals(names(AuditEvent.class), names(ChainedEvent.class));
    assertEquals(names(AuditEvent.Alert.class), names(ChainedEvent.Alert.class));
  }

  private static AuditEvent event() {
    Instant t = Instant.parse("2026-05-01T10:00:00.123Z");
    return new AuditEvent("id-1", t, AuditEventType.ALERT, AuditOutcome.FAILURE, "alice", "sub-1", "jti-1",
        "192.0.2.1", "curl/8", "auth.v1.AuthService/Login", "FAILED_LOGIN_BURST", "inst-1", "admin", "CN=gw", 3,
        t, t.plusSeconds(5), Optional.of(new AuditEvent.Alert("FAILED_LOGIN_BURST", "medium", "5 failures",
            List.of("e1", "e2"), 5)), "", 0, "", "");
  }

  @Test
  void everyFieldReachesTheHash() throws Exception {
    AuditEvent base = new AuditChains("c:1").seal(List.of(event())).get(0);
    String hash = Hashes.of(AuditChains.toChained(base));
    assertEquals(base.hash(), hash);
    // change each field in turn: the hash must change with it
    RecordComponent[] fields = AuditEvent.class.getRecordComponents();
    for (int i = 0; i < fields.length; i++) {
      String name = fields[i].getName();
      if (name.equals("hash")) {
        continue;
      }
      Object[] values = new Object[fields.length];
      for (int j = 0; j < fields.length; j++) {
        values[j] = fields[j].getAccessor().invoke(base);
      }
      values[i] = changed(values[i]);
      AuditEvent altered = (AuditEvent) AuditEvent.class.getDeclaredConstructor(
          Arrays.stream(fields).map(RecordComponent::getType).toArray(Class[]::new)).newInstance(values);
      assertNotEquals(hash, Hashes.of(AuditChains.toChained(altered)), "the hash does not cover " + name);
    }
  }

  private static Object changed(Object value) {
    return switch (value) {
      case String s -> s + "x";
      case Long l -> l + 1;
      case Instant t -> t.plusMillis(1);
      case AuditEventType t -> t == AuditEventType.LOGIN ? AuditEventType.ALERT : AuditEventType.LOGIN;
      case AuditOutcome o -> o == AuditOutcome.SUCCESS ? AuditOutcome.FAILURE : AuditOutcome.SUCCESS;
      case Optional<?> o -> o.isPresent() ? Optional.empty() : Optional.of(new AuditEvent.Alert("r", "", "", List.of(), 1));
      default -> throw new IllegalArgumentException("no change for " + value);
    };
  }
}
