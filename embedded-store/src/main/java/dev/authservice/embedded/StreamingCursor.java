package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.AbstractCursor;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.bson.Document;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * A cursor that produces its documents as the client asks for them, batch by batch, instead of
 * holding every remaining result in the heap (the library's {@code InMemoryCursor}): a find or
 * aggregation over a hundred thousand events then needs one batch of memory, not all of it.
 *
 * <p>The documents come from a lazy stream over MVStore maps (an index walk or a scan), which
 * needs no lock: a document removed while the cursor is open is skipped, one changed is seen as
 * it is when its batch is read (a read without snapshot isolation, as MongoDB's own is).
 */
final class StreamingCursor extends AbstractCursor {
  /** MongoDB's first batch when the client names no size. */
  static final int DEFAULT_FIRST_BATCH = 101;
  /**
   * A batch the client did not size (a getMore without batchSize) stops at this estimated heap
   * size, well under the 16 MiB a reply may hold (MongoDB fills a batch up to that).
   */
  static final long UNSIZED_BATCH_BYTES = 4L << 20;

  private final Stream<Document> results;
  private final Iterator<Document> remaining;
  private final UnaryOperator<List<Document>> finish;
  private final OpenWalks walks;
  private volatile Instant lastUsed;

  private StreamingCursor(long id, Stream<Document> results, Iterator<Document> remaining,
      UnaryOperator<List<Document>> finish, OpenWalks walks) {
    super(id);
    this.results = results;
    this.remaining = remaining;
    this.finish = finish;
    this.walks = walks;
    this.lastUsed = walks.now();
  }

  /**
   * The first {@code firstBatch} (at least 1) documents of {@code results}, and a registered
   * cursor for the rest if any remain; {@code finish} is applied to each batch (a projection).
   * {@code results} is closed when it has given its last document, or when the cursor is
   * killed or abandoned ({@link OpenWalks}): its close handlers release the walk's pages.
   */
  static QueryResult answer(Stream<Document> results, int firstBatch, UnaryOperator<List<Document>> finish,
      OpenWalks walks) {
    if (firstBatch <= 0) {
      throw new IllegalArgumentException("a first batch needs a size: " + firstBatch);
    }
    Iterator<Document> iterator = results.iterator();
    List<Document> first;
    try {
      first = finish.apply(take(iterator, firstBatch));
    } catch (RuntimeException e) {
      results.close();
      throw e;
    }
    if (!iterator.hasNext()) {
      results.close();
      return new QueryResult(first);
    }
    StreamingCursor cursor = new StreamingCursor(walks.registry().generateCursorId(), results, iterator, finish, walks);
    walks.add(cursor);
    return new QueryResult(first, cursor);
  }

  @Override
  public synchronized boolean isEmpty() {
    return !remaining.hasNext();
  }

  @Override
  public synchronized List<Document> takeDocuments(int numberToReturn) {
    lastUsed = walks.now();
    try {
      List<Document> batch = finish.apply(take(remaining, numberToReturn));
      if (!remaining.hasNext()) {
        close();
      }
      return batch;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  Instant lastUsed() {
    return lastUsed;
  }

  /** Ends the walk: its pages may go. Idempotent. */
  synchronized void close() {
    walks.ended(this);
    results.close();
  }

  private static List<Document> take(Iterator<Document> iterator, int numberToReturn) {
    int limit = numberToReturn > 0 ? numberToReturn : Integer.MAX_VALUE;
    List<Document> batch = new ArrayList<>(Math.min(limit, 1024));
    long bytes = 0;
    while (batch.size() < limit && iterator.hasNext()) {
      Document next = iterator.next();
      batch.add(next);
      if (numberToReturn <= 0) {
        bytes += BsonDataTypes.DocumentType.INSTANCE.getMemory(next);
        if (bytes >= UNSIZED_BATCH_BYTES) {
          break;
        }
      }
    }
    return batch;
  }
}
