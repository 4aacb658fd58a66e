package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.h2.mvstore.MVMap;

/**
 * Which indexes hold a document more than once (one entry per element of an array value), so
 * that walking them must drop repeats, and through which of their fields. Kept in the store, since
 * it must hold across restarts. Per field, as MongoDB tracks it (since 3.4): an array in one field
 * of a compound index leaves a walk of it in the order of its other fields, so one array edited
 * into a field does not turn every ordered walk of the index into a sort of what it finds.
 */
final class MultikeyFlags {
  /** Between an index's map name and a field's path, in the key of that field's flag. */
  private static final String FIELD = "\u0000";
  private final MVMap<String, Boolean> flags;

  MultikeyFlags(MVMap<String, Boolean> flags) {
    this.flags = flags;
  }

  /** Whether some document has several entries in the index. */
  boolean isMultikey(String indexMap, List<String> keyPaths) {
    return !multikeyPaths(indexMap, keyPaths).isEmpty();
  }

  /**
   * The fields of the index some document holds an array of several values in. Every field when
   * the index is flagged as a whole: by a store from before fields were told apart, or for a
   * document whose repeated entries no single field accounts for.
   */
  Set<String> multikeyPaths(String indexMap, List<String> keyPaths) {
    if (Boolean.TRUE.equals(flags.get(indexMap))) {
      return Set.copyOf(keyPaths);
    }
    Set<String> paths = new LinkedHashSet<>();
    for (String path : keyPaths) {
      if (Boolean.TRUE.equals(flags.get(indexMap + FIELD + path))) {
        paths.add(path);
      }
    }
    return paths;
  }

  void markIfMultikey(String indexMap, Document document, List<String> keyPaths, int entriesOfOneDocument) {
    if (entriesOfOneDocument <= 1) {
      return;
    }
    boolean accounted = false;
    for (String path : keyPaths) {
      if (Utils.getSubdocumentValueCollectionAware(document, path) instanceof Collection<?> values
          && values.size() > 1) {
        if (path.contains(".")) {
          // a dotted path may reach into an array another of the index's paths shares ({a.p, a.s}
          // over a: [{p, s}, ...]), whose entries pair values of one element; MongoDB tells that
          // apart per path component, this store does not: such an index is multikey as a whole
          flag(indexMap);
          return;
        }
        flag(indexMap + FIELD + path);
        accounted = true;
      }
    }
    if (!accounted) {
      flag(indexMap);
    }
  }

  private void flag(String key) {
    if (!Boolean.TRUE.equals(flags.get(key))) {
      flags.put(key, Boolean.TRUE);
    }
  }
}
