package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.bson.Document;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;

/** A client that opens a cursor and walks away cannot hold the walk's pages for ever. */
class OpenWalksTest {
  private Instant now = Instant.parse("2026-12-02T12:00:00Z");

  @Test
  void aCursorIdlePastTheTimeoutIsClosedWhenAnotherOpens() {
    MVStore store = new MVStore.Builder().open();
    try {
      CursorRegistry registry = new CursorRegistry();
      OpenWalks walks = new OpenWalks(store, registry, new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
      });
      AtomicBoolean firstClosed = new AtomicBoolean();
      StreamingCursor.answer(documents().onClose(() -> firstClosed.set(true)), 1, UnaryOperator.identity(), walks);
      assertEquals(1, walks.size());

      now = now.plus(OpenWalks.IDLE_TIMEOUT).minusSeconds(1);
      StreamingCursor.answer(documents(), 1, UnaryOperator.identity(), walks);
      assertFalse(firstClosed.get(), "not idle long enough yet");
      assertEquals(2, walks.size());

      now = now.plus(Duration.ofSeconds(2));
      StreamingCursor.answer(documents(), 1, UnaryOperator.identity(), walks);
      assertTrue(firstClosed.get(), "the abandoned cursor's walk ended");
      assertEquals(2, walks.size());
      assertEquals(2, registry.size(), "and the library no longer knows it");
    } finally {
      store.close();
    }
  }

  private static Stream<Document> documents() {
    return IntStream.range(0, 10).mapToObj(i -> new Document("n", i));
  }
}
