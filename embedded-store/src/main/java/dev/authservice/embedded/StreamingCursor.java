package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.AbstractCursor;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.bson.Document;
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

  private final Iterator<Document> remaining;
  private final UnaryOperator<List<Document>> finish;

  private StreamingCursor(long id, Iterator<Document> remaining, UnaryOperator<List<Document>> finish) {
    super(id);
    this.remaining = remaining;
    this.finish = finish;
  }

  /**
   * The first {@code firstBatch} (at least 1) documents of {@code results}, and a registered
   * cursor for the rest if any remain; {@code finish} is applied to each batch (a projection).
   */
  static QueryResult answer(Stream<Document> results, int firstBatch, UnaryOperator<List<Document>> finish,
      CursorRegistry registry) {
    if (firstBatch <= 0) {
      throw new IllegalArgumentException("a first batch needs a size: " + firstBatch);
    }
    Iterator<Document> iterator = results.iterator();
    List<Document> first = finish.apply(take(iterator, firstBatch));
    if (!iterator.hasNext()) {
      return new QueryResult(first);
    }
    StreamingCursor cursor = new StreamingCursor(registry.generateCursorId(), iterator, finish);
    registry.add(cursor);
    return new QueryResult(first, cursor);
  }

  @Override
  public synchronized boolean isEmpty() {
    return !remaining.hasNext();
  }

  @Override
  public synchronized List<Document> takeDocuments(int numberToReturn) {
    return finish.apply(take(remaining, numberToReturn));
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
