package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.bson.Document;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
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
  private final OpenWalks walks;
  private final MVMap<Object, Document> dataMap;

  IndexedH2Collection(MongoDatabase database, String collectionName, CollectionOptions options,
      MVMap<Object, Document> dataMap, MVMap<String, Object> metaMap, CursorRegistry cursorRegistry, OpenWalks walks) {
    super(database, collectionName, options, dataMap, metaMap, cursorRegistry);
    this.walks = walks;
    this.dataMap = dataMap;
  }

  /**
   * Stores each document whole, with every index entry, whatever part of it the file holds: the
   * MVStore commits map by map, so a commit taken while a document was inserted can keep the
   * document without some of its index entries, or entries without the document, and a crash
   * after that commit leaves it so (a plain delete then fails on the missing entry, a plain insert
   * on the stray one). A stored document under the same {@code _id} with other content is left
   * as it is. Returns how many were left so.
   */
  synchronized int restore(List<Document> documents) {
    int kept = 0;
    for (Document document : documents) {
      Object position = Missing.ofNullable(document.get("_id"));
      Document stored = dataMap.get(position);
      if (stored != null && !stored.equals(document) || leadsElsewhere(document, position)) {
        kept++;
        continue;
      }
      for (Index<Object> index : getIndexes()) {
        // an index key can equal another document's (1 and 1L compare equal in keys, not in the
        // data map): only an entry leading here goes
        if (index instanceof H2SecondaryIndex secondary) {
          secondary.removeLeadingTo(document, position);
        } else if (index instanceof H2OrderedUniqueIndex unique && position.equals(unique.getPosition(document))) {
          index.remove(document);
        }
      }
      if (stored == null) {
        addDocument(document);
      } else {
        // the document is there as it should be: only its entries are made again
        for (Index<Object> index : getIndexes()) {
          index.add(document, position, this);
        }
      }
    }
    return kept;
  }

  /** Whether the {@code _id} index already leads this document's _id to another position (1 stored, 1L asked). */
  private boolean leadsElsewhere(Document document, Object position) {
    for (Index<Object> index : getIndexes()) {
      if (index instanceof H2OrderedUniqueIndex unique && unique.getKeys().size() == 1
          && "_id".equals(unique.getKeys().get(0).getKey())) {
        Object found = unique.getPosition(document);
        return found != null && !found.equals(position);
      }
    }
    return false;
  }

  @Override
  protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize,
      Document fieldSelector) {
    Optional<IndexPlan> plan = isNatural(orderBy) || pointLookup(query) ? Optional.empty()
        : IndexPlan.best(orderedIndexes(), query, orderBy);
    if (plan.isEmpty()) {
      return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
    }
    Runnable release = walks.pin();   // before the walk's map cursors exist (they are made below)
    Stream<Document> candidates = stream(plan.get().positions()).map(this::getDocument).filter(Objects::nonNull)
        .onClose(release);
    return matchDocumentsFromStream(query, candidates, numberToSkip, limit, batchSize,
        plan.get().ordered() ? null : deriveComparator(orderBy), fieldSelector);
  }

  /**
   * Every query's last step. A client that reads in batches (a find with a batch size) and needs
   * no sort done here gets its documents batch by batch ({@link StreamingCursor}) instead of all
   * of them collected first, so a large result never has to fit in the heap at once. A sort
   * done here still collects (and a limit bounds it); so do the library's own callers (count,
   * update, delete), which ask for no batch size and read the whole answer at once.
   */
  @Override
  protected QueryResult matchDocumentsFromStream(Document query, Stream<Document> documentStream, int numberToSkip,
      int limit, int batchSize, Comparator<Document> documentComparator, Document fieldSelector) {
    // every find, count, update and delete, through an index or a scan, hands its candidates to the matcher here
    // a scan's map cursor is made when the stream is first read, after this pin; an index walk is pinned already
    documentStream = documentStream.peek(document -> examined.increment()).onClose(walks.pin());
    if (batchSize <= 0 || documentComparator != null) {
      try (Stream<Document> read = documentStream) {
        return super.matchDocumentsFromStream(query, read, numberToSkip, limit, batchSize, documentComparator,
            fieldSelector);
      }
    }
    // a matcher of its own: the cursor runs later, on whichever thread asks for the next batch
    DefaultQueryMatcher matcher = new DefaultQueryMatcher();
    Stream<Document> results = documentStream.filter(document -> matcher.matches(document, query));
    if (numberToSkip > 0) {
      results = results.skip(numberToSkip);
    }
    if (limit > 0) {
      results = results.limit(limit);
    }
    UnaryOperator<List<Document>> projection = fieldSelector == null || fieldSelector.keySet().isEmpty()
        ? UnaryOperator.identity()
        // the library's projection, a batch at a time (its class is not visible from here)
        : batch -> super.matchDocumentsFromStream(new Document(), batch.stream(), 0, 0, 0, null, fieldSelector)
            .collectDocuments();
    return StreamingCursor.answer(results, batchSize, projection, walks);
  }

  /**
   * What an index finds for {@code query}, as a lazy stream, or empty when no index narrows it:
   * the start of an aggregation, whose own leading {@code $match} (the same matcher) then keeps
   * only the documents that match, so the query is evaluated once per document, not twice.
   * Reading MVStore maps needs no lock; a document removed while the stream runs is skipped.
   * A {@code hint} (an index's name or keys) limits the choice to that index, as MongoDB's does.
   * When the pipeline opens with a {@code $match} and {@code $project} ({@code head}) that the
   * walked index holds every field of, the stream is of the index entries as documents
   * ({@link CoveredRead}), already matched and projected by {@code head}: no document is read,
   * except for an entry whose values may differ from its document's.
   */
  Optional<Candidates> candidatesThroughIndex(Document query, Object hint, Optional<CoveredHead> head) {
    if (pointLookup(query)) {
      return Optional.empty();
    }
    Optional<IndexPlan> found = IndexPlan.best(hinted(hint), query, null);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    IndexPlan plan = found.get();
    Optional<CoveredRead> covered = head.flatMap(h -> CoveredRead.over(plan.index(), h.fieldsRead()));
    Runnable release = walks.pin();   // before the walk's map cursors exist
    if (covered.isPresent()) {
      CoveredHead.Entries pair = head.get().over(covered.get());
      return Optional.of(new Candidates(stream(plan.entries()).map(entry -> {
        if (pair.standsForDocument(entry.getKey())) {
          return pair.fromIndex(entry.getKey());
        }
        Document document = examine(getDocument(entry.getValue()));
        return document == null ? null : head.get().fromCollection(document);
      }).filter(Objects::nonNull).onClose(release), true));
    }
    return Optional.of(new Candidates(stream(plan.positions()).map(this::getDocument).filter(Objects::nonNull)
        .peek(document -> examined.increment()).onClose(release), false));
  }

  /**
   * What an index walk feeds an aggregation: candidates for its leading {@code $match}, or (when
   * {@code headApplied}) the output of its {@code $match} and {@code $project} already.
   */
  record Candidates(Stream<Document> documents, boolean headApplied) {}

  private Document examine(Document document) {
    if (document != null) {
      examined.increment();
    }
    return document;
  }

  /** The index a hint names (by name or by its keys), or every ordered index when there is no such hint. */
  private List<OrderedIndex> hinted(Object hint) {
    List<OrderedIndex> all = orderedIndexes();
    if (hint instanceof String name) {
      List<OrderedIndex> named = all.stream().filter(index -> index.getName().equals(name)).toList();
      return named.isEmpty() ? all : named;
    }
    if (hint instanceof Document keys && !keys.isEmpty()) {
      List<OrderedIndex> byKeys = all.stream().filter(index -> sameKeys(index, keys)).toList();
      return byKeys.isEmpty() ? all : byKeys;
    }
    return all;
  }

  private static boolean sameKeys(OrderedIndex index, Document keys) {
    if (index.getKeys().size() != keys.size()) {
      return false;
    }
    Iterator<Map.Entry<String, Object>> wanted = keys.entrySet().iterator();
    for (IndexKey key : index.getKeys()) {
      Map.Entry<String, Object> next = wanted.next();
      boolean ascending = !(next.getValue() instanceof Number n) || n.doubleValue() >= 0;
      if (!key.getKey().equals(next.getKey()) || key.isAscending() != ascending) {
        return false;
      }
    }
    return true;
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
