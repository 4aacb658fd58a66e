package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only journal of audit events in numbered segment files ({@code audit-journal.N}) in
 * the data directory. {@link #append} returns once its events are on disk; {@link #rotate} starts
 * a new segment, so that the ones before it can be deleted once everything in them is durable
 * elsewhere ({@link #deleteBefore}); {@link #replay} reads what the segments hold, oldest first.
 *
 * <p>A segment begins with a header: a magic number, a format version and 8 random bytes made
 * when it was created. A record is a magic number, the payload's length, a CRC-32C of the
 * segment's random bytes and the payload, then the payload: the number of events and each event
 * in the spool's format ({@link AuditSpoolFormat}) after its length. Every append is forced before
 * the next begins, so a crash can cut only the last record written: a record that is incomplete
 * or fails its checksum ends its segment's replay (with a warning). An intact record found after
 * such a one means the damage is not a cut (a disk error, an edit), and replay refuses rather than
 * drop acknowledged events. The random bytes are why that search can look anywhere: a record
 * spelled inside an event's fields (a user name chosen by a caller) does not check out without
 * them, so a caller cannot make a cut tail look like damage.
 *
 * <p>The files hold what the trail holds (user names, addresses): they are created for the
 * server's OS user only, without following a symbolic link planted in their place.
 */
final class EventJournal implements AutoCloseable {
  static final String PREFIX = "audit-journal.";
  private static final int SEGMENT_MAGIC = 0x41554a53;  // "AUJS"
  private static final int SEGMENT_VERSION = 1;
  private static final int SEGMENT_HEADER = 16;
  private static final int MAGIC = 0x41554a31;  // "AUJ1"
  private static final int HEADER = 12;
  /** Far above an honest record (a batch of 1,000 events with long fields); a longer length is damage. */
  private static final int MAX_RECORD = 64 * 1024 * 1024;
  /**
   * A segment is closed once it passes JournaledEventWrites' 64 MiB bound (with one more record of
   * at most {@link #MAX_RECORD}): anything larger was not written by this server.
   */
  private static final long MAX_SEGMENT_READ = 256L * 1024 * 1024;
  /** Segment numbers stay well inside the names {@link #segments()} reads. */
  private static final long MAX_NUMBER = 999_999_999_999_999L;
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private static final Logger log = LoggerFactory.getLogger(EventJournal.class);
  private final SecureRandom random = new SecureRandom();
  private final Path dir;
  private FileChannel segment;
  private byte[] segmentNonce;
  private long segmentNumber;
  private long segmentBytes;
  private boolean segmentBroken;

  private EventJournal(Path dir) {
    this.dir = dir;
  }

  /** The journal in this directory; its existing segments are there for {@link #replay} until {@link #start}. */
  static EventJournal in(Path dir) {
    return new EventJournal(dir);
  }

  /** The segments on disk by number, oldest first (regular files only). */
  TreeMap<Long, Path> segments() {
    TreeMap<Long, Path> found = new TreeMap<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, PREFIX + "*")) {
      for (Path entry : entries) {
        String suffix = entry.getFileName().toString().substring(PREFIX.length());
        // only files this journal made: a link planted in the directory is not read through
        if (suffix.matches("[0-9]{1,15}") && Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
          found.put(Long.parseLong(suffix), entry);
        }
      }
    } catch (NoSuchFileException e) {
      return found;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the audit journal in " + dir, e);
    }
    return found;
  }

  /**
   * Hands every recorded batch to {@code batches}, oldest first, and returns how many events
   * there were; throws {@link IllegalStateException} naming the segment and offset when a segment
   * is damaged before records that are intact.
   */
  long replay(Consumer<List<AuditEvent>> batches) {
    long events = 0;
    for (Path file : segments().values()) {
      byte[] bytes;
      try {
        if (Files.size(file) > MAX_SEGMENT_READ) {
          throw new IllegalStateException("the audit journal segment " + file + " holds " + Files.size(file)
              + " bytes, more than this server ever writes to one; move it out of the data directory to start"
              + " without the events it holds");
        }
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the audit journal segment " + file, e);
      }
      ByteBuffer in = ByteBuffer.wrap(bytes);
      if (bytes.length < SEGMENT_HEADER || in.getInt() != SEGMENT_MAGIC) {
        // created, and cut before its header was forced: nothing was ever appended to it
        if (bytes.length > 0) {
          log.warn("audit journal segment {}: {} bytes without a whole header, ignored", file, bytes.length);
        }
        continue;
      }
      int version = in.getInt();
      if (version != SEGMENT_VERSION) {
        throw new IllegalStateException("the audit journal segment " + file + " is of format " + version
            + ", which this version of the server does not know; start the version that wrote it");
      }
      byte[] nonce = new byte[8];
      in.get(nonce);
      while (in.hasRemaining()) {
        int at = in.position();
        byte[] payload = record(in, nonce);
        if (payload == null) {
          if (intactRecordAfter(bytes, at + 1, nonce)) {
            throw new IllegalStateException("the audit journal segment " + file + " is damaged at byte " + at
                + " and holds intact records after it, so acknowledged audit events would be lost; restore the"
                + " data directory from a backup, or move that file away to start without the events it holds");
          }
          // the tail a crash cut short: never acknowledged
          log.warn("audit journal segment {}: the last {} bytes are a record cut short, ignored", file,
              bytes.length - at);
          break;
        }
        List<AuditEvent> batch = decode(payload, file, at);
        events += batch.size();
        batches.accept(batch);
      }
    }
    return events;
  }

  /** Opens a new segment after every existing one; appends go there. */
  synchronized void start() {
    open(lastOnDisk() + 1);
  }

  /** Writes these events as one record and forces it to disk. */
  synchronized void append(List<AuditEvent> events) {
    if (segment == null) {
      throw new IllegalStateException("the audit journal is not open");
    }
    if (segmentBroken) {
      // a record after a torn one would make the tear look like damage at the next start
      throw new IllegalStateException("the audit journal segment " + segmentPath(segmentNumber)
          + " failed a write; appends wait for the next segment");
    }
    ByteBuffer record = encode(events, segmentNonce);
    try {
      while (record.hasRemaining()) {
        segment.write(record);
      }
      segment.force(false);
      segmentBytes += record.limit();
    } catch (IOException e) {
      segmentBroken = true;
      throw new UncheckedIOException("cannot write the audit journal segment " + segmentPath(segmentNumber), e);
    } catch (RuntimeException | Error e) {
      segmentBroken = true;   // whatever stopped it may have left part of the record written
      throw e;
    }
  }

  /**
   * Closes the current segment and opens the next; returns the new segment's number. Every
   * append that returned before this call is in an earlier segment.
   */
  synchronized long rotate() {
    FileChannel previous = segment;
    open(Math.max(segmentNumber, lastOnDisk()) + 1);
    closeQuietly(previous);
    return segmentNumber;
  }

  /** The highest segment number on disk, 0 when there is none (the directory listed once). */
  private long lastOnDisk() {
    TreeMap<Long, Path> onDisk = segments();
    return onDisk.isEmpty() ? 0 : onDisk.lastKey();
  }

  /** Deletes the segments numbered below {@code number}, which must not include the current one. */
  void deleteBefore(long number) {
    for (var entry : segments().headMap(number).entrySet()) {
      try {
        Files.deleteIfExists(entry.getValue());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete the audit journal segment " + entry.getValue(), e);
      }
    }
  }

  /** The current segment's number, -1 before {@link #start}. */
  synchronized long currentSegment() {
    return segment == null ? -1 : segmentNumber;
  }

  /** Whether the current segment is open with nothing appended and no write failed in it. */
  synchronized boolean currentSegmentUntouched() {
    return segment != null && segmentBytes == 0 && !segmentBroken;
  }

  /** Bytes appended to the current segment since it opened. */
  synchronized long currentSegmentBytes() {
    return segmentBytes;
  }

  @Override
  public synchronized void close() {
    closeQuietly(segment);
    segment = null;
  }

  /**
   * Creates the segment numbered {@code from}, or the first free number after it: a name taken
   * (a file left behind, a link planted there) is skipped, never opened.
   */
  private void open(long from) {
    if (from > MAX_NUMBER - 100) {
      throw new IllegalStateException("the audit journal segments in " + dir + " are numbered up to " + from
          + ", too high to go on; remove the audit-journal.* files after a clean stop");
    }
    IOException last = null;
    for (long number = from; number < from + 100; number++) {
      Path file = segmentPath(number);
      FileChannel channel;
      try {
        channel = create(file);
      } catch (FileAlreadyExistsException e) {
        last = e;
        continue;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the audit journal segment " + file, e);
      }
      try {
        byte[] nonce = new byte[8];
        random.nextBytes(nonce);
        ByteBuffer header = ByteBuffer.allocate(SEGMENT_HEADER).putInt(SEGMENT_MAGIC).putInt(SEGMENT_VERSION)
            .put(nonce).flip();
        while (header.hasRemaining()) {
          channel.write(header);
        }
        channel.force(false);
        // the new file's name must survive a power loss as its records do
        forceDirectory();
        segment = channel;
        segmentNonce = nonce;
        segmentNumber = number;
        segmentBytes = 0;
        segmentBroken = false;
        return;
      } catch (IOException e) {
        closeQuietly(channel);
        throw new UncheckedIOException("cannot create the audit journal segment " + file, e);
      }
    }
    throw new UncheckedIOException("cannot create an audit journal segment: the next 100 names in " + dir
        + " are taken", last);
  }

  private FileChannel create(Path file) throws IOException {
    // CREATE_NEW: never an existing file, nor the target of a link planted under the name
    if (!Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class)) {
      return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    }
    FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    // the attribute above is masked by the umask; this is not
    Files.setPosixFilePermissions(file, OWNER_ONLY);
    return channel;
  }

  private void forceDirectory() throws IOException {
    try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
      directory.force(true);
    } catch (IOException e) {
      // some systems cannot open a directory for reading; their file systems order this themselves
      if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
        return;
      }
      throw e;
    }
  }

  private Path segmentPath(long number) {
    return dir.resolve(PREFIX + number);
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // everything appended was forced already
    }
  }

  static ByteBuffer encode(List<AuditEvent> events, byte[] nonce) {
    List<byte[]> encoded = new ArrayList<>(events.size());
    int payloadLength = 4;
    for (AuditEvent event : events) {
      byte[] bytes = AuditSpoolFormat.encode(event);
      encoded.add(bytes);
      payloadLength += 4 + bytes.length;
    }
    ByteBuffer record = ByteBuffer.allocate(HEADER + payloadLength);
    record.putInt(MAGIC).putInt(payloadLength).putInt(0);
    record.putInt(events.size());
    for (byte[] bytes : encoded) {
      record.putInt(bytes.length).put(bytes);
    }
    record.putInt(8, checksum(nonce, record.array(), HEADER, payloadLength));
    return record.flip();
  }

  private static int checksum(byte[] nonce, byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(nonce);
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  /** The next record's payload, advancing past it; null (position unchanged) if none is intact there. */
  private static byte[] record(ByteBuffer in, byte[] nonce) {
    int start = in.position();
    if (in.remaining() < HEADER) {
      return null;
    }
    int magic = in.getInt(start);
    int length = in.getInt(start + 4);
    int expected = in.getInt(start + 8);
    if (magic != MAGIC || length < 4 || length > MAX_RECORD || length > in.remaining() - HEADER) {
      return null;
    }
    if (checksum(nonce, in.array(), start + HEADER, length) != expected) {
      return null;
    }
    byte[] payload = new byte[length];
    in.position(start + HEADER);
    in.get(payload);
    return payload;
  }

  private static boolean intactRecordAfter(byte[] bytes, int from, byte[] nonce) {
    for (int at = from; at + HEADER <= bytes.length; at++) {
      if (ByteBuffer.wrap(bytes, at, 4).getInt() == MAGIC) {
        ByteBuffer candidate = ByteBuffer.wrap(bytes);
        candidate.position(at);
        if (record(candidate, nonce) != null) {
          return true;
        }
      }
    }
    return false;
  }

  private static List<AuditEvent> decode(byte[] payload, Path file, int at) {
    ByteBuffer in = ByteBuffer.wrap(payload);
    try {
      int count = in.getInt();
      if (count < 0 || count > payload.length / 4) {
        throw new IllegalStateException("a record of " + count + " events");
      }
      List<AuditEvent> events = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int length = in.getInt();
        if (length < 0 || length > in.remaining()) {
          throw new IllegalStateException("an event of " + length + " bytes where " + in.remaining() + " remain");
        }
        byte[] entry = new byte[length];
        in.get(entry);
        events.add(AuditSpoolFormat.decode(entry));
      }
      if (in.hasRemaining()) {
        throw new IllegalStateException(in.remaining() + " bytes after the record's last event");
      }
      return events;
    } catch (RuntimeException e) {
      // the checksum matched, so this was written so: a newer server's format, or a deliberate edit
      throw new IllegalStateException("the audit journal segment " + file + " holds a record at byte " + at
          + " that this server cannot read (" + e.getMessage() + "); start the version that wrote it, or move the"
          + " file away to start without the events it holds", e);
    }
  }
}
