package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit spool: an H2 MVStore file in the data directory, one entry per event keyed by a
 * rising position, each event in the spool's own format ({@link AuditSpoolFormat}). Every change
 * is committed and synced before the call returns.
 *
 * <p>The file holds what the trail holds (user names, addresses), so it must be for the
 * server's OS user only: whoever opens the spool creates it so first (the bootstrap does).
 */
public final class MvStoreAuditSpool implements AuditSpool {
  private static final Logger log = LoggerFactory.getLogger(MvStoreAuditSpool.class);
  public static final String FILE_NAME = "audit-spool.mv.db";
  private static final String EVENTS = "events";
  /** Where versions before the spool had a format of its own kept events: the extended JSON of their MongoDB documents. */
  private static final String EARLIER_EVENTS = "audit_events";

  private final MVStore store;
  private final MVMap<Long, byte[]> events;

  private MvStoreAuditSpool(MVStore store) {
    this.store = store;
    this.events = store.openMap(EVENTS);
  }

  /** Opens the spool in this data directory; a spool holding events of an earlier version's format is refused. */
  public static MvStoreAuditSpool open(Path dataDir) {
    return open(dataDir, Optional.empty());
  }

  /**
   * Opens the spool in this data directory. Events an earlier version spooled in its format are
   * first read with {@code earlierFormat} and kept in this one, in their order, before any new
   * event; without a reader for them the spool refuses to open rather than drop them.
   */
  public static MvStoreAuditSpool open(Path dataDir, Optional<Function<String, AuditEvent>> earlierFormat) {
    Path file = dataDir.resolve(FILE_NAME);
    MVStore store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
    try {
      MvStoreAuditSpool spool = new MvStoreAuditSpool(store);
      spool.bringOverEarlierFormat(earlierFormat, file);
      return spool;
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  private void bringOverEarlierFormat(Optional<Function<String, AuditEvent>> earlierFormat, Path file) {
    if (!store.hasMap(EARLIER_EVENTS)) {
      return;
    }
    MVMap<Long, String> earlier = store.openMap(EARLIER_EVENTS);
    if (!earlier.isEmpty()) {
      if (earlierFormat.isEmpty()) {
        throw new IllegalStateException("the audit spool " + file + " holds " + earlier.sizeAsLong()
            + " events in an earlier format and no reader for it was given");
      }
      long next = events.isEmpty() ? 1 : events.lastKey() + 1;
      for (Map.Entry<Long, String> entry : earlier.entrySet()) {
        events.put(next++, AuditSpoolFormat.encode(earlierFormat.get().apply(entry.getValue())));
      }
      log.info("audit spool: {} events spooled by an earlier version kept in the current format", earlier.sizeAsLong());
    }
    // in the same commit as the copies: either both or neither reach the file
    store.removeMap(earlier);
    durable();
  }

  @Override
  public synchronized void append(List<AuditEvent> batch) {
    long next = events.isEmpty() ? 1 : events.lastKey() + 1;
    for (AuditEvent event : batch) {
      events.put(next++, AuditSpoolFormat.encode(event));
    }
    durable();
  }

  @Override
  public synchronized List<Spooled> oldest(int max) {
    List<Spooled> out = new ArrayList<>(Math.min(max, 1024));
    var cursor = events.cursor(null);
    while (cursor.hasNext() && out.size() < max) {
      Long position = cursor.next();
      out.add(new Spooled(position, AuditSpoolFormat.decode(cursor.getValue())));
    }
    return out;
  }

  @Override
  public synchronized void removeThrough(long position) {
    List<Long> done = new ArrayList<>();
    for (Map.Entry<Long, byte[]> entry : events.entrySet()) {
      if (entry.getKey() > position) {
        break;
      }
      done.add(entry.getKey());
    }
    done.forEach(events::remove);
    durable();
  }

  @Override
  public long size() {
    return events.sizeAsLong();
  }

  private void durable() {
    store.commit();
    store.sync();
  }

  @Override
  public synchronized void close() {
    if (!store.isClosed()) {
      store.close();
    }
  }
}
