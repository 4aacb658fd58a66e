package dev.authservice.embedded;

import org.h2.mvstore.MVMap;

/**
 * Which indexes hold a document more than once (one entry per element of an array value), so
 * that walking them must drop repeats. Kept in the store, since it must hold across restarts.
 */
final class MultikeyFlags {
  private final MVMap<String, Boolean> flags;

  MultikeyFlags(MVMap<String, Boolean> flags) {
    this.flags = flags;
  }

  boolean isMultikey(String indexMap) {
    return Boolean.TRUE.equals(flags.get(indexMap));
  }

  void markIfMultikey(String indexMap, int entriesOfOneDocument) {
    if (entriesOfOneDocument > 1 && !isMultikey(indexMap)) {
      flags.put(indexMap, Boolean.TRUE);
    }
  }
}
