package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.h2.mvstore.MVMap;

/**
 * A unique index (including {@code _id}) in an MVMap ordered like MongoDB orders values. Point
 * lookups and constraint checks are the library's; ranges and sorts use {@link #scan}.
 */
final class H2OrderedUniqueIndex extends AbstractUniqueIndex<Object> implements OrderedIndex {
  private final MVMap<KeyValue, Object> map;
  /** The map's name, the key of its multikey flag: {@code MVMap.getName} looks it up in the store's metadata. */
  private final String mapName;
  private final MultikeyFlags multikey;
  private final List<String> keyPaths;
  private final ScalarIndexKeys scalarKeys;

  H2OrderedUniqueIndex(MVMap<KeyValue, Object> map, String name, List<IndexKey> keys, boolean sparse,
      MultikeyFlags multikey) {
    super(name, keys, sparse);
    this.map = map;
    this.mapName = map.getName();
    this.multikey = multikey;
    this.keyPaths = List.copyOf(super.keys());
    this.scalarKeys = ScalarIndexKeys.forKeys(keys);
  }

  /** The library builds this list anew on every call, and calls it several times for every document. */
  @Override
  protected List<String> keys() {
    return keyPaths;
  }

  /** The library's key values, computed directly when they are top-level scalars (see {@link ScalarIndexKeys}). */
  @Override
  public Set<KeyValue> getKeyValues(Document document) {
    Object[] scalar = scalarKeys == null ? null : scalarKeys.valuesOf(document);
    return scalar != null ? Set.of(ScalarIndexKeys.keyOf(scalar)) : super.getKeyValues(document);
  }

  /** Its entries lead to positions, not _id values: never read as documents. */
  @Override
  public boolean coverable() {
    return false;
  }

  @Override
  public synchronized void add(Document document, Object position, MongoCollection<Object> collection) {
    super.add(document, position, collection);
    multikey.markIfMultikey(mapName, document, keyPaths, getKeyValues(document).size());
  }

  /**
   * Where the document is, by this index: none when the index is sparse and the document has none
   * of its keys, as it then is not in the index. The library looks such a document up anyway,
   * under the key of null values, and so finds another document that holds nulls there: an
   * update of the first then fails, having seen two positions for one document.
   */
  @Override
  public Object getPosition(Document document) {
    if (isSparse() && keys().stream().allMatch(key -> Utils.getSubdocumentValue(document, key) instanceof Missing)) {
      return null;
    }
    return super.getPosition(document);
  }

  @Override
  public boolean sparse() {
    return isSparse();
  }

  @Override
  public java.util.Set<String> multikeyPaths() {
    return multikey.multikeyPaths(mapName, keyPaths);
  }

  @Override
  protected Object removeDocument(KeyValue keyValue) {
    return map.remove(keyValue);
  }

  @Override
  protected boolean putKeyPosition(KeyValue keyValue, Object position) {
    return map.putIfAbsent(keyValue, Missing.ofNullable(position)) == null;
  }

  @Override
  protected Iterable<Map.Entry<KeyValue, Object>> getIterable() {
    return map.entrySet();
  }

  @Override
  protected Object getPosition(KeyValue keyValue) {
    return map.get(keyValue);
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
  public Iterator<Map.Entry<KeyValue, Object>> scan(KeyValue lower, KeyValue upper, boolean reverse) {
    return OrderedIndex.scan(map, lower, upper, reverse);
  }
}
