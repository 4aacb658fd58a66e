package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.AbstractSynchronizedMongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;
import de.bwaldvogel.mongo.oplog.Oplog;
import io.netty.channel.Channel;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * One database of the embedded store in an MVStore: like the library's H2 database, but keeping
 * documents and index keys as BSON, building non-unique indexes, and starting aggregations that
 * open with {@code $match} from an index.
 */
final class IndexedH2Database extends AbstractSynchronizedMongoDatabase<Object> {
  static final String DATABASES_PREFIX = "databases.";
  /** This store's own command: {@link #restore}. */
  static final String RESTORE_COMMAND = "restoreDocuments";
  private static final String META_PREFIX = "meta.";
  private static final Set<String> WRITING_STAGES = Set.of("$out", "$merge", "$changeStream");

  private final MVStore mvStore;
  private final MultikeyFlags multikey;
  private final CoverableFlags coverable;
  private final OpenWalks walks;
  /** Repeated strings of this database's index keys, one object each, written or read ({@link CanonicalStrings}). */
  private final CanonicalStrings strings = new CanonicalStrings();
  /** The key type of every index map of this database. */
  private final BsonDataTypes.KeyValueType keyType = new BsonDataTypes.KeyValueType(strings);

  IndexedH2Database(String databaseName, MVStore mvStore, CursorRegistry cursorRegistry) {
    super(databaseName, cursorRegistry);
    this.mvStore = mvStore;
    // the system clock: the library builds databases itself, with no place to pass one
    this.walks = new OpenWalks(mvStore, cursorRegistry, Clock.systemUTC());
    this.multikey = new MultikeyFlags(mvStore.openMap(META_PREFIX + databaseName + "._multikey_indexes"));
    this.coverable = new CoverableFlags(mvStore.openMap(META_PREFIX + databaseName + "._coverable_indexes"));
    initializeNamespacesAndIndexes();
  }

  int openWalks() {
    return walks.size();
  }

  /** Ends the walks of cursors left open, before the store closes. */
  void closeWalks() {
    walks.closeAll();
  }

  @Override
  protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
      boolean sparse) {
    return new H2OrderedUniqueIndex(indexMap(collectionName, indexName), indexName, keys, sparse, multikey);
  }

  @Override
  protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys,
      boolean sparse) {
    return new H2SecondaryIndex(indexMap(collectionName, indexName), indexName, keys, sparse, multikey, coverable,
        strings);
  }

  private MVMap<KeyValue, Object> indexMap(String collectionName, String indexName) {
    return mvStore.openMap(indexMapName(collectionName, indexName),
        new MVMap.Builder<KeyValue, Object>().keyType(keyType));
  }

  private String indexMapName(String collectionName, String indexName) {
    return getFullCollectionNamespace(collectionName) + "._index_" + indexName;
  }

  @Override
  protected void dropIndex(MongoCollection<Object> collection, String indexName) {
    super.dropIndex(collection, indexName);
    mvStore.removeMap(indexMapName(collection.getCollectionName(), indexName));
  }

  @Override
  protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
    String fullName = getFullCollectionNamespace(collectionName);
    return new IndexedH2Collection(this, collectionName, options, dataMap(fullName),
        mvStore.openMap(META_PREFIX + fullName), cursorRegistry, walks);
  }

  private MVMap<Object, Document> dataMap(String fullName) {
    return mvStore.openMap(DATABASES_PREFIX + fullName,
        new MVMap.Builder<Object, Document>().valueType(BsonDataTypes.DocumentType.INSTANCE));
  }

  @Override
  public Document handleCommand(Channel channel, String command, Document query, DatabaseResolver databaseResolver,
      Oplog oplog) {
    if (command.equals(RESTORE_COMMAND)) {
      return restore(query);
    }
    if (command.equalsIgnoreCase("aggregate")) {
      Document answer = aggregateFromIndex(query, databaseResolver, oplog);
      if (answer != null) {
        return answer;
      }
    }
    return super.handleCommand(channel, command, query, databaseResolver, oplog);
  }

  /**
   * {@code {restoreDocuments: <collection>, documents: [...]}}: each document stored whole with
   * its index entries, whatever part of it a crash left ({@link IndexedH2Collection#restore});
   * answers how many were {@code restored} and how many {@code kept} a stored document of other
   * content under their id. This store's own command, for clients replaying a journal of their
   * own after a crash; MongoDB has none like it (nor needs one).
   */
  private Document restore(Document query) {
    if (!(query.get(RESTORE_COMMAND) instanceof String collectionName) || collectionName.isEmpty()
        || !(query.get("documents") instanceof List<?> documents)
        || !documents.stream().allMatch(d -> d instanceof Document doc && doc.containsKey("_id"))) {
      throw new MongoServerError(2, "BadValue", RESTORE_COMMAND + " takes a collection name and documents with _id");
    }
    if (collectionName.startsWith("system.") || collectionName.contains("$")) {
      // the store's own collections, keyed otherwise and read at every start: inserts refuse them too
      throw new MongoServerError(16459, "InvalidNamespace", RESTORE_COMMAND + " cannot write to " + collectionName);
    }
    IndexedH2Collection collection = (IndexedH2Collection) resolveOrCreateCollection(collectionName);
    int kept = collection.restore(documents.stream().map(Document.class::cast).toList());
    Document answer = new Document("restored", documents.size() - kept).append("kept", kept);
    Utils.markOkay(answer);
    return answer;
  }

  /**
   * The library feeds every aggregation the whole collection. When the pipeline opens with
   * {@code $match} and writes nothing, this feeds it only what an index finds for that match;
   * the stages, the match included, then run unchanged (each {@code $group} as a {@link HashedGroupStage}).
   * A {@code $match} then an inclusion {@code $project} that an index holds every field of is
   * answered from the index entries alone ({@link CoveredRead}, {@link CoveredHead}).
   * Null means: leave it to the library.
   */
  private Document aggregateFromIndex(Document query, DatabaseResolver databaseResolver, Oplog oplog) {
    if (!(query.get("aggregate") instanceof String collectionName) || query.containsKey("explain")
        || query.containsKey("let")) {
      return null;
    }
    List<Document> pipeline = Aggregation.parse(query.get("pipeline"));
    if (pipeline.isEmpty() || pipeline.get(0).size() != 1 || !(pipeline.get(0).get("$match") instanceof Document match)
        || pipeline.stream().anyMatch(stage -> stage.keySet().stream().anyMatch(WRITING_STAGES::contains))) {
      return null;
    }
    if (!(resolveCollection(collectionName, false) instanceof IndexedH2Collection collection)) {
      return null;
    }
    Optional<IndexedH2Collection.Candidates> found = collection.candidatesThroughIndex(match, query.get("hint"),
        CoveredHead.of(pipeline));
    if (found.isEmpty()) {
      return null;
    }
    Stream<Document> matching = found.get().documents();
    Stream<Document> results;
    try {
      Aggregation aggregation = Aggregation.fromPipeline(pipeline, databaseResolver, this, collection, oplog);
      aggregation.validate(query);
      // the covered walk ran the $match and $project already
      List<Document> rest = found.get().headApplied() ? pipeline.subList(2, pipeline.size()) : pipeline;
      // a $group makes a new stream: closing the answer must still close the walk beneath it
      results = runStages(rest, matching, databaseResolver, collection, oplog).onClose(matching::close);
    } catch (RuntimeException e) {
      matching.close();
      throw e;
    }
    QueryResult answer = StreamingCursor.answer(results, firstBatchSize(query), UnaryOperator.identity(), walks);
    Document cursor = new Document("id", answer.getCursorId()).append("ns", getFullCollectionNamespace(collectionName))
        .append("firstBatch", answer.collectDocuments());
    return new Document("cursor", cursor).append("ok", 1.0);
  }

  /**
   * The pipeline's stages over {@code input}: the library's, except that each {@code $group}
   * runs as a {@link HashedGroupStage} (the same answer, without comparing whole keys per document).
   */
  private Stream<Document> runStages(List<Document> pipeline, Stream<Document> input, DatabaseResolver databaseResolver,
      IndexedH2Collection collection, Oplog oplog) {
    Stream<Document> stream = input;
    List<Document> run = new ArrayList<>();
    for (Document stage : pipeline) {
      if (stage.size() == 1 && stage.get("$group") instanceof Document group) {
        stream = libraryStages(run, stream, databaseResolver, collection, oplog);
        run.clear();
        stream = new HashedGroupStage(group).apply(stream);
      } else {
        run.add(stage);
      }
    }
    return libraryStages(run, stream, databaseResolver, collection, oplog);
  }

  private Stream<Document> libraryStages(List<Document> stages, Stream<Document> input,
      DatabaseResolver databaseResolver, IndexedH2Collection collection, Oplog oplog) {
    return stages.isEmpty() ? input
        : Aggregation.fromPipeline(List.copyOf(stages), databaseResolver, this, collection, oplog)
            .runStagesAsStream(input);
  }

  /** The aggregation's {@code cursor.batchSize}, or MongoDB's default first batch. */
  private static int firstBatchSize(Document query) {
    if (query.get("cursor") instanceof Document cursor && cursor.get("batchSize") instanceof Number size
        && size.intValue() > 0) {
      return size.intValue();
    }
    return StreamingCursor.DEFAULT_FIRST_BATCH;
  }

  @Override
  protected long getStorageSize() {
    FileStore<?> fileStore = mvStore.getFileStore();
    return fileStore == null ? 0 : fileStore.size();
  }

  @Override
  protected long getFileSize() {
    return getStorageSize();
  }

  @Override
  public void drop(Oplog oplog) {
    super.drop(oplog);
    for (String name : List.copyOf(mvStore.getMapNames())) {
      if (name.startsWith(databaseName + ".") || name.startsWith(DATABASES_PREFIX + databaseName + ".")
          || name.startsWith(META_PREFIX + databaseName + ".")) {
        mvStore.removeMap(name);
      }
    }
  }

  @Override
  public void dropCollection(String collectionName, Oplog oplog) {
    super.dropCollection(collectionName, oplog);
    String fullName = getFullCollectionNamespace(collectionName);
    mvStore.removeMap(DATABASES_PREFIX + fullName);
    mvStore.removeMap(META_PREFIX + fullName);
    // the library leaves index maps behind, which a collection created again would inherit
    String indexPrefix = fullName + "._index_";
    for (String name : List.copyOf(mvStore.getMapNames())) {
      if (name.startsWith(indexPrefix)) {
        mvStore.removeMap(name);
      }
    }
  }

  @Override
  public void moveCollection(MongoDatabase oldDatabase, MongoCollection<?> collection, String newCollectionName) {
    super.moveCollection(oldDatabase, collection, newCollectionName);
    String newFullName = getFullCollectionNamespace(newCollectionName);
    mvStore.renameMap(dataMap(collection.getFullName()), DATABASES_PREFIX + newFullName);
    mvStore.renameMap(mvStore.openMap(META_PREFIX + collection.getFullName()), META_PREFIX + newFullName);
  }
}
