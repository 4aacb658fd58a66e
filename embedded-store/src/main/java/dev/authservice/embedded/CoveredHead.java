package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.Document;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The {@code $match} and inclusion {@code $project} that open a covered aggregation
 * ({@link CoveredRead}), run together on each candidate instead of as the library's two stages.
 * An index entry that holds its document's values goes through the filter compiled once for the
 * index's layout ({@link CoveredMatch}) and is projected from its places: no document is built
 * for it. A document read from the collection (an entry that cannot stand for it) goes through
 * the library's matcher. Both are projected as the library's {@code $project} would: {@code _id}
 * first unless the projection names it, then the included fields in the projection's order, those
 * present. {@link CoveredRead#fieldsRead} admits only projections of top-level fields by
 * {@code 1}/{@code true}, with {@code _id} maybe excluded.
 */
final class CoveredHead {
  private static final String ID = "_id";

  private final Set<String> fieldsRead;
  private final Document filter;
  private final DefaultQueryMatcher library = new DefaultQueryMatcher();
  private final boolean idFirst;
  private final List<Map.Entry<String, Boolean>> projection;

  private CoveredHead(Set<String> fieldsRead, Document filter, Document projection) {
    this.fieldsRead = fieldsRead;
    this.filter = filter;
    this.idFirst = !projection.containsKey(ID);
    List<Map.Entry<String, Boolean>> fields = new ArrayList<>(projection.size());
    // interned, as the group key's names are (GroupKeys): each lookup of a projected field is by reference
    projection.forEach((name, include) -> fields.add(Map.entry(name.intern(), CoveredRead.truthy(include))));
    this.projection = List.copyOf(fields);
  }

  /**
   * For a pipeline that opens with {@code $match} then a {@code $project} whose fields an index
   * may hold: the pair as one step. Empty when the pair reads anything but top-level fields.
   */
  static Optional<CoveredHead> of(List<Document> pipeline) {
    if (pipeline.size() < 2 || pipeline.get(0).size() != 1 || pipeline.get(1).size() != 1
        || !(pipeline.get(0).get("$match") instanceof Document filter)
        || !(pipeline.get(1).get("$project") instanceof Document projection)) {
      return Optional.empty();
    }
    return CoveredRead.fieldsRead(filter, projection).map(read -> new CoveredHead(read, filter, projection));
  }

  /** The fields the pair reads: what an index must hold to cover it. */
  Set<String> fieldsRead() {
    return fieldsRead;
  }

  /** The pair over the entries of the index {@code read} walks (it holds every field read). */
  Entries over(CoveredRead read) {
    return new Entries(read);
  }

  /** A document read from the collection, projected, or null when it does not match. */
  Document fromCollection(Document document) {
    if (!library.matches(document, filter)) {
      return null;
    }
    Document result = new Document();
    if (idFirst && document.containsKey(ID)) {
      result.put(ID, document.get(ID));
    }
    for (Map.Entry<String, Boolean> field : projection) {
      String name = field.getKey();
      if (!field.getValue()) {
        result.remove(name);   // only _id can be excluded from an inclusion
      } else if (document.containsKey(name)) {
        result.put(name, document.get(name));
      }
    }
    return result;
  }

  /** The pair compiled for one index's entries. */
  final class Entries {
    private final CoveredRead read;
    private final Predicate<KeyValue> matches;
    private final int idPlace;
    private final int[] places;

    private Entries(CoveredRead read) {
      this.read = read;
      // a filter it does not compile goes to the library's matcher, on the entry's fields as a document
      this.matches = CoveredMatch.compile(filter, read::position)
          .orElse(entry -> library.matches(asDocument(entry), filter));
      this.idPlace = read.position(ID);
      this.places = projection.stream().mapToInt(field -> read.position(field.getKey())).toArray();
    }

    /** Whether the entry stands for its document; if not, read the document and use {@link #fromCollection}. */
    boolean standsForDocument(KeyValue entry) {
      return read.holdsAsStored(entry);
    }

    /** An entry that stands for its document ({@link #standsForDocument}), projected, or null when it does not match. */
    Document fromIndex(KeyValue entry) {
      if (!matches.test(entry)) {
        return null;
      }
      Document result = new Document();
      if (idFirst) {
        result.put(ID, entry.get(idPlace));
      }
      for (int i = 0; i < places.length; i++) {
        // an excluded field is _id, named by the projection, so never put above: nothing to remove
        Map.Entry<String, Boolean> field = projection.get(i);
        if (field.getValue()) {
          result.put(field.getKey(), entry.get(places[i]));
        }
      }
      return result;
    }

    private Document asDocument(KeyValue entry) {
      Document document = new Document();
      for (String name : fieldsRead) {
        document.put(name, entry.get(read.position(name)));
      }
      return document;
    }
  }
}
