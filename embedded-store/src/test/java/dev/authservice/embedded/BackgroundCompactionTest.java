package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.file.Path;
import org.h2.mvstore.FileStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's file, as {@link EmbeddedStore#start} opens it, is never compacted while writes keep
 * coming (the audit trail's steady state), only when the store is idle. H2 2.3's housekeeping
 * (RandomAccessStore.doHousekeeping) rewrites chunks while busy when {@code 50 + fill / 2} falls below
 * {@code rate * rate / 100}, which no chunk fill rate can satisfy once {@code rate * rate / 100 <= 50};
 * when idle it rewrites chunks below {@code rate}. With the library's default rate (90) the busy
 * store rewrote chunks below 62% fill all the time: most of what the server allocated under
 * QueryAudit load (docs/benchmarks.md).
 */
class BackgroundCompactionTest {
  @TempDir
  Path dir;

  @Test
  void aBusyStoreRewritesNoChunksAndAnIdleOneStillCompacts() throws Exception {
    try (EmbeddedStore store = EmbeddedStore.start(dir)) {
      int rate = autoCompactFillRate(store.mvStore().getFileStore());
      assertTrue(rate * rate / 100 <= 50,
          "a compaction rate of " + rate + " has the store rewrite chunks under load");
      assertTrue(rate >= 40, "a compaction rate of " + rate + " lets an idle store's file grow past 2.5 times its data");
    }
  }

  /** The rate the file store was opened with (the library has no public getter for it). */
  private static int autoCompactFillRate(FileStore<?> fileStore) throws ReflectiveOperationException {
    Method getter = FileStore.class.getDeclaredMethod("getAutoCompactFillRate");
    getter.setAccessible(true);
    return (int) getter.invoke(fileStore);
  }
}
