package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.MinKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.h2.mvstore.MVMap;

/**
 * A non-unique index, which mongo-java-server leaves to its backends and its own backends do
 * not build: an MVMap from the indexed values plus the document's {@code _id} (so equal values
 * stay distinct) to the {@code _id}. It never answers {@link #canHandle}; the collection's
 * planner walks it with {@link #scan}.
 */
final class H2SecondaryIndex extends Index<Object> implements OrderedIndex {
  private static final String ID = "_id";

  private final MVMap<KeyValue, Object> map;
  /** The map's name, the key of its multikey flag: {@code MVMap.getName} looks it up in the store's metadata. */
  private final String mapName;
  private final MultikeyFlags multikey;
  private final CoverableFlags coverable;
  private final List<String> keyPaths;
  private final ScalarIndexKeys scalarKeys;
  private final CanonicalStrings strings;

  H2SecondaryIndex(MVMap<KeyValue, Object> map, String name, List<IndexKey> keys, boolean sparse,
      MultikeyFlags multikey, CoverableFlags coverable, CanonicalStrings strings) {
    super(name, keys, sparse);
    this.map = map;
    this.strings = strings;
    this.mapName = map.getName();
    this.multikey = multikey;
    this.coverable = coverable;
    coverable.opened(mapName, map.isEmpty());
    this.keyPaths = List.copyOf(super.keys());
    this.scalarKeys = ScalarIndexKeys.forKeys(keys);
  }

  /** The library builds this list anew on every call, and calls it for every document. */
  @Override
  protected List<String> keys() {
    return keyPaths;
  }

  private Set<KeyValue> entryKeys(Document document) {
    Object[] scalar = scalarKeys == null ? null : scalarKeys.storedValuesOf(document);
    if (scalar != null) {
      if (isSparse() && scalarKeys.noneIn(document)) {
        return Set.of();
      }
      Object[] withId = Arrays.copyOf(scalar, scalar.length + 1);
      withId[scalar.length] = document.get(ID);
      for (int i = 0; i < withId.length; i++) {
        // an entry written stays in the page cache as written: its strings shared as those read are
        if (withId[i] instanceof String text) {
          withId[i] = strings.of(text);
        }
      }
      return Set.of(ScalarIndexKeys.keyOf(withId));
    }
    if (isSparse() && keys().stream().allMatch(key -> Utils.getSubdocumentValue(document, key) instanceof Missing)) {
      return Set.of();
    }
    Object position = document.get(ID);
    Set<KeyValue> keyValues = getKeyValues(document);
    if (keyValues.isEmpty()) {
      keyValues = Set.of(emptyArrayKey(document));
    }
    return keyValues.stream().map(values -> {
      List<Object> withId = BsonDataTypes.valuesOf(values);
      withId.add(position);
      return new KeyValue(withId);
    }).collect(java.util.stream.Collectors.toSet());
  }

  /**
   * The one entry of a document whose indexed array is empty, for which the library finds no key
   * at all: without an entry, walks by the index's other keys would miss the document, and
   * deleting it would fail. MongoDB indexes such an array too, as a value below every other;
   * MinKey stands for it (it sorts where the library sorts an empty array: before null) and no
   * range or equality the planner walks can match it, just as none matches an empty array.
   */
  private KeyValue emptyArrayKey(Document document) {
    List<Object> values = new ArrayList<>();
    for (String key : keys()) {
      Object value = Utils.getSubdocumentValueCollectionAware(document, key);
      values.add(value instanceof Collection<?> c && c.isEmpty() ? MinKey.getInstance()
          : Missing.isNullOrMissing(value) ? null : value);
    }
    return new KeyValue(values);
  }

  @Override
  public Object getPosition(Document document) {
    return null;
  }

  @Override
  public void checkAdd(Document document, MongoCollection<Object> collection) {
    // not unique: nothing to check
  }

  @Override
  public synchronized void add(Document document, Object position, MongoCollection<Object> collection) {
    Set<KeyValue> keys = entryKeys(document);
    multikey.markIfMultikey(mapName, document, keyPaths, keys.size());
    coverable.entered(mapName, document, keyPaths);
    for (KeyValue key : keys) {
      map.put(key, position);
    }
  }

  /** Removes this document's entries that lead to {@code position}, and no other document's. */
  synchronized void removeLeadingTo(Document document, Object position) {
    for (KeyValue key : entryKeys(document)) {
      map.remove(key, position);
    }
  }

  @Override
  public synchronized Object remove(Document document) {
    Object position = null;
    for (KeyValue key : entryKeys(document)) {
      Object removed = map.remove(key);
      position = removed != null ? removed : position;
    }
    return position;
  }

  @Override
  public boolean canHandle(Document query) {
    return false;
  }

  @Override
  public Iterable<Object> getPositions(Document query) {
    throw new UnsupportedOperationException("walked by the planner, not asked for positions");
  }

  @Override
  public long getCount() {
    return map.sizeAsLong();
  }

  @Override
  public boolean isEmpty() {
    return map.isEmpty();
  }

  @Override
  public long getDataSize() {
    return getCount();
  }

  @Override
  public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Object> collection) {
    // not unique: nothing to check
  }

  @Override
  public synchronized void updateInPlace(Document oldDocument, Document newDocument, Object position,
      MongoCollection<Object> collection) {
    // entries as stored: 1 and 1L are equal keys, yet the entry must say which one the document holds
    if (!entryKeys(oldDocument).equals(entryKeys(newDocument))) {
      remove(oldDocument);
      add(newDocument, position, collection);
    }
  }

  @Override
  public void drop() {
    map.clear();
  }

  @Override
  public boolean sparse() {
    return isSparse();
  }

  @Override
  public boolean coverable() {
    return coverable.isCoverable(mapName);
  }

  @Override
  public java.util.Set<String> multikeyPaths() {
    return multikey.multikeyPaths(mapName, keyPaths);
  }

  @Override
  public Iterator<Map.Entry<KeyValue, Object>> scan(KeyValue lower, KeyValue upper, boolean reverse) {
    return OrderedIndex.scan(map, lower, upper, reverse);
  }
}
