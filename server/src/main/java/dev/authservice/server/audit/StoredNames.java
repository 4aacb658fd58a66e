package dev.authservice.server.audit;

/** How the audit enums read their stored names: a full proto name, or the enum's unknown value for any other. */
final class StoredNames {
  private StoredNames() {}

  /**
   * The constant whose name follows {@code prefix} in {@code stored}; {@code unknown} for a name
   * this version does not know (a newer version's, or an edit), or no text at all.
   */
  static <E extends Enum<E>> E parse(Class<E> type, String prefix, String stored, E unknown) {
    if (stored == null || !stored.startsWith(prefix)) {
      return unknown;
    }
    try {
      return Enum.valueOf(type, stored.substring(prefix.length()));
    } catch (IllegalArgumentException e) {
      return unknown;
    }
  }
}
