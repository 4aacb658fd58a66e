package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.exception.CursorNotFoundException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.h2.mvstore.MVStore;

/**
 * Keeps the pages a walk reads on disk until the walk is done. A walk (an index cursor, a scan)
 * reads the maps as they were when it began; the MVStore frees a chunk once no registered
 * version uses it and its retention time (45 s) has passed, so an unregistered walk that lasts
 * longer (a cursor its client reads slowly, an aggregation on a loaded machine) fails with
 * "Chunk not found". Each walk registers the version it starts from and releases it when its
 * stream is closed: at its end, when its client kills the cursor, or when the cursor has been
 * idle for {@link #IDLE_TIMEOUT} (MongoDB's default cursor timeout), so that a client that
 * walks away cannot keep old chunks on disk for ever. Abandoned cursors are looked for
 * whenever a new one opens: a store nobody queries writes nothing worth reclaiming.
 */
final class OpenWalks {
  /** MongoDB's {@code cursorTimeoutMillis} default. */
  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);

  private final MVStore store;
  private final CursorRegistry registry;
  private final Clock clock;
  private final Map<Long, StreamingCursor> open = new ConcurrentHashMap<>();

  OpenWalks(MVStore store, CursorRegistry registry, Clock clock) {
    this.store = store;
    this.registry = registry;
    this.clock = clock;
  }

  /** Registers the store's current version; call before the walk's map cursors are made. */
  Runnable pin() {
    MVStore.TxCounter counter = store.registerVersionUsage();
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        store.deregisterVersionUsage(counter);
      }
    };
  }

  CursorRegistry registry() {
    return registry;
  }

  Instant now() {
    return clock.instant();
  }

  /** A cursor with a walk left: registered with the library, and watched until it ends. */
  void add(StreamingCursor cursor) {
    reap();
    registry.add(cursor);
    open.put(cursor.getId(), cursor);
  }

  void ended(StreamingCursor cursor) {
    open.remove(cursor.getId(), cursor);
  }

  /** Cursors killed by their clients, or idle past the timeout, release their walks. */
  void reap() {
    Instant stale = clock.instant().minus(IDLE_TIMEOUT);
    for (StreamingCursor cursor : open.values()) {
      if (!known(cursor) || cursor.lastUsed().isBefore(stale)) {
        registry.remove(cursor.getId());
        cursor.close();
      }
    }
  }

  /** The store is closing: every walk ends. */
  void closeAll() {
    open.values().forEach(StreamingCursor::close);
  }

  int size() {
    return open.size();
  }

  private boolean known(StreamingCursor cursor) {
    try {
      return registry.getCursor(cursor.getId()) == cursor;
    } catch (CursorNotFoundException e) {
      return false;
    }
  }
}
