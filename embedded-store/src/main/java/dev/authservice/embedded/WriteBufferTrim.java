package dev.authservice.embedded;

import java.lang.reflect.Field;
import java.util.Queue;
import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.WriteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back the write buffers a large commit grew. The MVStore serializes each commit into a
 * {@link WriteBuffer} as large as the chunk it writes and keeps up to four of them, each up to
 * 4 MiB, for the next commits, for as long as the store is open. The audit trail's commits are a
 * few KiB, but one bulk insert or one idle compaction leaves those buffers grown: measured after
 * seeding 100k events into a running server, 8–10 MiB of a 96 MiB heap (three buffers of 2–3 MiB)
 * held for nothing in the old generation, where a summary's walk of the same size then ran into
 * back-to-back full collections (docs/benchmarks.md, "SummarizeAudit after a bulk insert").
 * Buffers of the library's initial size (1 MiB) stay pooled, so the steady stream of small commits
 * allocates nothing new; only grown ones are dropped, and the next large commit grows a fresh one.
 *
 * <p>The pool is a private field of the library (H2 2.3): read once by reflection; if a later
 * version lacks it, trimming is off (logged once) and the store works as before.
 */
final class WriteBufferTrim {
  private static final Logger log = LoggerFactory.getLogger(WriteBufferTrim.class);
  /** The capacity of a buffer the library makes (WriteBuffer's MIN_GROW); larger ones were grown by a commit. */
  static final int INITIAL_CAPACITY = 1024 * 1024;

  private final Queue<WriteBuffer> pool;

  private WriteBufferTrim(Queue<WriteBuffer> pool) {
    this.pool = pool;
  }

  static WriteBufferTrim of(MVStore mvStore) {
    return new WriteBufferTrim(poolOf(mvStore.getFileStore()));
  }

  /** Drops the pooled buffers a commit grew beyond the initial capacity. */
  void trim() {
    if (pool != null) {
      // the pool is a concurrent queue; a buffer in use by a commit is not in it
      pool.removeIf(buffer -> buffer.capacity() > INITIAL_CAPACITY);
    }
  }

  /** The capacity of the largest pooled buffer, 0 if none (-1 when the pool cannot be reached). */
  int largestPooledCapacity() {
    if (pool == null) {
      return -1;
    }
    int largest = 0;
    for (WriteBuffer buffer : pool.toArray(new WriteBuffer[0])) {
      largest = Math.max(largest, buffer.capacity());
    }
    return largest;
  }

  @SuppressWarnings("unchecked")
  private static Queue<WriteBuffer> poolOf(FileStore<?> fileStore) {
    try {
      Field field = FileStore.class.getDeclaredField("writeBufferPool");
      field.setAccessible(true);
      return (Queue<WriteBuffer>) field.get(fileStore);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("the MVStore's write buffer pool is not reachable ({}): grown write buffers stay pooled", e.toString());
      return null;
    }
  }
}
