package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.bson.Document;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.h2.mvstore.MVMap;

/**
 * An H2 collection that answers queries through its ordered indexes when one narrows the query:
 * it walks the index in the requested order and stops at the limit. Without a usable index it
 * scans, as the library does.
 */
final class IndexedH2Collection extends H2Collection {
  /** Documents queries have read and handed to the matcher, for tests and diagnostics: how much a query scanned. */
  private final LongAdder examined = new LongAdder();

  IndexedH2Collection(MongoDatabase database, String collectionName, CollectionOptions options,
      MVMap<Object, Document> dataMap, MVMap<String, Object> metaMap, CursorRegistry cursorRegistry) {
    super(database, collectionName, options, dataMap, metaMap, cursorRegistry);
  }

  @Override
  protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize,
      Document fieldSelector) {
    Optional<IndexPlan> plan = isNatural(orderBy) || pointLookup(query) ? Optional.empty()
        : IndexPlan.best(orderedIndexes(), query, orderBy);
    if (plan.isEmpty()) {
      return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
    }
    Stream<Document> candidates = stream(plan.get().positions()).map(this::getDocument).filter(Objects::nonNull);
    return matchDocumentsFromStream(query, candidates, numberToSkip, limit, batchSize,
        plan.get().ordered() ? null : deriveComparator(orderBy), fieldSelector);
  }

  /**
   * The documents matching {@code query} as a lazy stream through an index, or empty when no
   * index narrows it: the start of an aggregation. Reading MVStore maps needs no lock; a
   * document removed while the stream runs is skipped.
   */
  Optional<Stream<Document>> matchingThroughIndex(Document query) {
    if (pointLookup(query)) {
      return Optional.empty();
    }
    return IndexPlan.best(orderedIndexes(), query, null).map(plan -> stream(plan.positions())
        .map(this::getDocument).filter(Objects::nonNull).peek(document -> examined.increment())
        .filter(document -> documentMatchesQuery(document, query)));
  }

  /** Every find, count, update and delete, through an index or a scan, hands its candidates to the matcher here. */
  @Override
  protected QueryResult matchDocumentsFromStream(Document query, Stream<Document> documentStream, int numberToSkip,
      int limit, int batchSize, Comparator<Document> documentComparator, Document fieldSelector) {
    return super.matchDocumentsFromStream(query, documentStream.peek(document -> examined.increment()), numberToSkip,
        limit, batchSize, documentComparator, fieldSelector);
  }

  /** How many documents queries on this collection have examined since it was opened. */
  long documentsExamined() {
    return examined.sum();
  }

  /** Counting document sizes on every write costs a metadata write each time; nothing here reads it. */
  @Override
  protected boolean tracksDataSize() {
    return false;
  }

  private boolean pointLookup(Document query) {
    return getIndexes().stream().anyMatch(index -> index.canHandle(query));
  }

  private List<OrderedIndex> orderedIndexes() {
    List<OrderedIndex> ordered = new ArrayList<>();
    for (Index<Object> index : getIndexes()) {
      if (index instanceof OrderedIndex o) {
        ordered.add(o);
      }
    }
    return ordered;
  }

  private static boolean isNatural(Document orderBy) {
    return orderBy != null && orderBy.containsKey("$natural");
  }

  private static <T> Stream<T> stream(Iterator<T> iterator) {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator, Spliterator.ORDERED), false);
  }
}
