package dev.authservice.server.audit.write;

import dev.authservice.integrity.Hashes;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.chain.AuditChains;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Audit writes to a store whose only way to make a write durable is to commit everything it
 * holds (the embedded store: a commit rewrites every index page that changed since the last one,
 * so committing after every batch of events grew its file by 10–50 KB per event). Here a batch is
 * durable once it is in the {@link EventJournal}, a few hundred bytes per event forced to disk;
 * the store commits at each {@link #checkpoint()}, about once a second, and a start restores what
 * the journal holds beyond the last commit.
 *
 * <p>Why that is safe: a batch is journaled only after the store acknowledged it, so a commit
 * that begins after a segment was closed holds every event in that segment, and only then is the
 * segment deleted. A commit the store made on its own while an insert was under way can hold an
 * event's document without all its index entries, so replay rewrites each event whole
 * ({@link EventWrites#restoreAll}) instead of skipping the ones it finds.
 *
 * <p>If the journal cannot be written, or a checkpoint is so late that the segment passed
 * {@link #MAX_SEGMENT_BYTES}, {@link #sync()} commits the store instead, as it did without a
 * journal, until a checkpoint opens a fresh segment.
 */
public final class JournaledEventWrites implements EventWrites, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JournaledEventWrites.class);
  private static final int REPLAY_CHUNK = 1000;
  /**
   * A segment holds about one checkpoint interval of events (300–400 bytes each); this many bytes
   * mean the checkpoints stalled (a store commit that does not return), and more would make the
   * next start's replay large.
   */
  static final long MAX_SEGMENT_BYTES = 64L * 1024 * 1024;

  private final EventWrites store;
  private final EventJournal journal;
  /** Events the store acknowledged that are not journaled yet; guarded by this. */
  private List<AuditEvent> unjournaled = new ArrayList<>();
  /**
   * One sync at a time, from taking the events to their being on disk: the writer thread syncs
   * too (replaying the spool), and a sync that found nothing left to take must not return while
   * another is still forcing the events it took.
   */
  private final Object syncing = new Object();
  /** Set when the journal failed: syncs commit the store until a checkpoint opens a new segment. */
  private volatile boolean committing;
  private volatile boolean closed;

  private JournaledEventWrites(EventWrites store, EventJournal journal) {
    this.store = store;
    this.journal = journal;
  }

  /**
   * Restores into {@code store} whatever the journal in {@code dataDir} holds (an earlier run
   * that did not stop cleanly), commits it, and starts a new journal there. Refuses, naming the
   * file, a journal whose events do not match their own hashes (edited).
   */
  public static JournaledEventWrites open(EventWrites store, Path dataDir) {
    EventJournal journal = EventJournal.in(dataDir);
    List<AuditEvent> chunk = new ArrayList<>();
    long replayed = journal.replay(batch -> {
      batch.forEach(JournaledEventWrites::checkHash);
      chunk.addAll(batch);
      if (chunk.size() >= REPLAY_CHUNK) {
        store.restoreAll(List.copyOf(chunk));
        chunk.clear();
      }
    });
    if (!chunk.isEmpty()) {
      store.restoreAll(List.copyOf(chunk));
    }
    if (replayed > 0) {
      store.sync();
      log.info("audit journal: {} events recorded before an unclean stop were restored into the store", replayed);
    }
    JournaledEventWrites writes = new JournaledEventWrites(store, journal);
    try {
      journal.start();
      // every event of the older segments is in the commit above (or was in an earlier one)
      journal.deleteBefore(journal.currentSegment());
    } catch (RuntimeException e) {
      log.error("audit journal: cannot be started in {}; every audit batch commits the store instead: {}", dataDir,
          e.toString());
      writes.committing = true;
    }
    return writes;
  }

  /** How many journal segments are in {@code dataDir}: an embedded store's, left by a crash. */
  public static int segmentsIn(Path dataDir) {
    return EventJournal.in(dataDir).segments().size();
  }

  /**
   * Only the events the server sealed come back: an event edited in the journal (whose owner
   * could have edited the store's file as well) no longer matches its hash, and VerifyAudit
   * would find it, but replay refuses it first rather than write it into the trail.
   */
  private static void checkHash(AuditEvent event) {
    // events spooled by a version from before the chain have none; they come back as they were
    if (event.isSealed() && !Hashes.of(AuditChains.toChained(event)).equals(event.hash())) {
      throw new IllegalStateException("the audit journal holds event " + event.id() + " (chain " + event.chain()
          + ", seq " + event.seq() + ") whose fields do not match its hash: it was edited after it was written."
          + " Move the audit-journal.* files out of the data directory to start without the events they hold");
    }
  }

  @Override
  public void insertAll(List<AuditEvent> events) {
    store.insertAll(events);
    synchronized (this) {
      unjournaled.addAll(events);
    }
  }

  @Override
  public void restoreAll(List<AuditEvent> events) {
    store.restoreAll(events);
    synchronized (this) {
      unjournaled.addAll(events);
    }
  }

  /** Makes every event the store acknowledged so far durable: journaled, or else committed. */
  @Override
  public void sync() {
    synchronized (syncing) {
      List<AuditEvent> events;
      synchronized (this) {
        events = unjournaled;
        unjournaled = new ArrayList<>();
      }
      if (events.isEmpty()) {
        return;
      }
      if (!committing && journal.currentSegmentBytes() > MAX_SEGMENT_BYTES) {
        committing = true;
        log.error("audit journal: its segment passed {} bytes without a checkpoint (is the store's commit stuck?);"
            + " every audit batch commits the store until one runs", MAX_SEGMENT_BYTES);
      }
      if (!committing) {
        try {
          journal.append(events);
          return;
        } catch (RuntimeException e) {
          committing = true;
          log.error("audit journal: cannot be written; every audit batch commits the store until the next"
              + " checkpoint opens a new segment: {}", e.toString());
        }
      }
      try {
        store.sync();
      } catch (RuntimeException e) {
        // not durable: the next sync must try them again, or it would answer a later caller of this
        // batch (one the writer inserted after this sync's caller took its own) without them
        synchronized (this) {
          events.addAll(unjournaled);
          unjournaled = events;
        }
        throw e;
      }
    }
  }

  /**
   * Commits the store and deletes the journal's segments the commit made redundant; run every
   * {@code AUTH_EMBEDDED_JOURNAL_INTERVAL}, it bounds the journal and the replay after a crash to
   * about that much.
   */
  public void checkpoint() {
    long current;
    // only the switch waits for a sync under way (a force); the commit runs beside new syncs
    synchronized (syncing) {
      boolean untouched = journal.currentSegmentUntouched();
      if (closed || !committing && untouched) {
        return;  // nothing journaled since the last one: an idle server neither commits nor makes files
      }
      try {
        // while commits fail, one empty segment is enough: no new file each time
        current = untouched ? journal.currentSegment() : journal.rotate();
      } catch (RuntimeException e) {
        if (!committing) {
          committing = true;
          log.error("audit journal: cannot open a new segment; every audit batch commits the store until one"
              + " opens: {}", e.toString());
        }
        current = -1;
      }
    }
    try {
      store.sync();
    } catch (RuntimeException e) {
      // no segment may go, and new ones would only pile up (one a checkpoint): commit per batch
      // until a commit works again
      committing = true;
      throw e;
    }
    if (current < 0 || closed) {
      return;
    }
    if (committing) {
      committing = false;
      log.info("audit journal: writing to {} again", EventJournal.PREFIX + current);
    }
    try {
      journal.deleteBefore(current);
    } catch (RuntimeException e) {
      // the commit holds their events: left on disk, they are only replayed once more at a start
      log.warn("audit journal: could not delete older segments: {}", e.toString());
    }
  }

  /**
   * Makes what was written durable in the store itself and removes the journal; call after the
   * writer has stopped. A sync still running (a writer that outlived its wait) finishes first, and
   * any later one commits the store. If the commit fails, the journal stays for the next start.
   */
  @Override
  public void close() {
    synchronized (syncing) {
      closed = true;
      try {
        sync();
        committing = true;
        journal.close();
        store.sync();
        journal.deleteBefore(Long.MAX_VALUE);
      } catch (RuntimeException e) {
        journal.close();
        log.error("audit journal: the final commit failed; the next start replays the journal: {}", e.toString());
      }
    }
  }
}
