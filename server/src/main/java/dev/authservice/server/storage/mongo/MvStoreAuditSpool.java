package dev.authservice.server.storage.mongo;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.write.AuditSpool;
import dev.authservice.server.storage.PrivateFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * The audit spool: an H2 MVStore file in the data directory, one entry per event keyed by a
 * rising position, each event as the same BSON document it becomes in MongoDB (stored as its
 * extended JSON). Every change is committed and synced before the call returns.
 */
public final class MvStoreAuditSpool implements AuditSpool {
  public static final String FILE_NAME = "audit-spool.mv.db";

  private final MVStore store;
  private final MVMap<Long, String> events;

  private MvStoreAuditSpool(MVStore store) {
    this.store = store;
    this.events = store.openMap("audit_events");
  }

  public static MvStoreAuditSpool open(Path dataDir) {
    PrivateFiles.secureDirectory(dataDir);
    Path file = dataDir.resolve(FILE_NAME);
    // for the server's user only, before the MVStore opens it (an empty file is a new store to it)
    PrivateFiles.secureFile(file);
    return new MvStoreAuditSpool(new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open());
  }

  @Override
  public synchronized void append(List<AuditEvent> batch) {
    long next = events.isEmpty() ? 1 : events.lastKey() + 1;
    for (AuditEvent event : batch) {
      events.put(next++, MongoAuditStore.toDocument(event).toJson());
    }
    durable();
  }

  @Override
  public synchronized List<Spooled> oldest(int max) {
    List<Spooled> out = new ArrayList<>(Math.min(max, 1024));
    var cursor = events.cursor(null);
    while (cursor.hasNext() && out.size() < max) {
      Long position = cursor.next();
      out.add(new Spooled(position, MongoAuditStore.toEvent(Document.parse(cursor.getValue()))));
    }
    return out;
  }

  @Override
  public synchronized void removeThrough(long position) {
    List<Long> done = new ArrayList<>();
    for (Map.Entry<Long, String> entry : events.entrySet()) {
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
