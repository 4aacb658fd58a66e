package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import de.bwaldvogel.mongo.backend.KeyValue;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.h2.mvstore.WriteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Index keys read from disk share one object per repeated string (the page cache's real size,
 * and what a long walk promotes, stay close to its data), and callers writing many distinct
 * values cannot grow the shared set beyond its bound.
 */
class CanonicalStringsTest {
  @Test
  void keysReadFromPagesShareTheirRepeatedStrings() {
    BsonDataTypes.KeyValueType type = new BsonDataTypes.KeyValueType(new CanonicalStrings());
    KeyValue first = roundTrip(type, new KeyValue("AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_SUCCESS", Instant.EPOCH));
    KeyValue second = roundTrip(type, new KeyValue("AUDIT_EVENT_TYPE_LOGIN", "AUDIT_OUTCOME_SUCCESS", Instant.EPOCH));
    assertEquals(first, second);
    assertSame(first.get(0), second.get(0), "one object for the type");
    assertSame(first.get(1), second.get(1), "one object for the outcome");
  }

  @Test
  void manyDistinctValuesStopAtTheBound() {
    CanonicalStrings strings = new CanonicalStrings();
    for (int i = 0; i < CanonicalStrings.MAX_STRINGS * 3; i++) {
      strings.of("user-" + i);
    }
    assertEquals(CanonicalStrings.MAX_STRINGS, strings.size());
    String late = new String("user-" + (CanonicalStrings.MAX_STRINGS * 5));
    assertSame(late, strings.of(late), "past the bound a string is returned as it is");
    String longOne = "x".repeat(CanonicalStrings.MAX_LENGTH + 1);
    assertNotSame(strings.of(new String(longOne)), strings.of(new String(longOne)), "long strings are not held");
    String early = new String("user-1");
    assertNotSame(early, strings.of(early));
    assertEquals("user-1", strings.of(early));
  }

  private static KeyValue roundTrip(BsonDataTypes.KeyValueType type, KeyValue key) {
    WriteBuffer out = new WriteBuffer();
    type.write(out, key);
    ByteBuffer in = out.getBuffer();
    in.flip();
    return type.read(in);
  }
}
