package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;

import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
import java.util.Set;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;

/**
 * Which fields of an index hold arrays: told apart per field for documents written now, and every
 * field for an index a store from before flagged as a whole (which field it was is not known).
 */
class MultikeyFlagsTest {
  private static final List<String> KEYS = List.of("type", "outcome", "time");

  @Test
  void anArrayFlagsItsOwnFieldOnly() {
    try (MVStore store = MVStore.open(null)) {
      MultikeyFlags flags = new MultikeyFlags(store.openMap("flags"));
      Document scalar = new Document("type", "T").append("outcome", "S").append("time", 1);
      flags.markIfMultikey("idx", scalar, KEYS, 1);
      assertEquals(Set.of(), flags.multikeyPaths("idx", KEYS));
      Document array = new Document("type", "T").append("outcome", List.of("S", "F")).append("time", 1);
      flags.markIfMultikey("idx", array, KEYS, 2);
      assertEquals(Set.of("outcome"), flags.multikeyPaths("idx", KEYS));
      assertEquals(Set.of(), flags.multikeyPaths("other", KEYS));
    }
  }

  @Test
  void anArrayReachedThroughADottedPathFlagsTheWholeIndex() {
    try (MVStore store = MVStore.open(null)) {
      MultikeyFlags flags = new MultikeyFlags(store.openMap("flags"));
      List<String> keys = List.of("a.p", "t", "a.s");
      Document shared = new Document("a", List.of(new Document("p", 1).append("s", 9),
          new Document("p", 2).append("s", 0))).append("t", 5);
      flags.markIfMultikey("idx", shared, keys, 2);
      assertEquals(Set.copyOf(keys), flags.multikeyPaths("idx", keys));
    }
  }

  @Test
  void anIndexFlaggedAsAWholeByAnEarlierStoreHasEveryFieldFlagged() {
    try (MVStore store = MVStore.open(null)) {
      MVMap<String, Boolean> map = store.openMap("flags");
      map.put("idx", Boolean.TRUE);
      assertEquals(Set.copyOf(KEYS), new MultikeyFlags(map).multikeyPaths("idx", KEYS));
    }
  }
}
