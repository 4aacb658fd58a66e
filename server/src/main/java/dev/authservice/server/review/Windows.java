package dev.authservice.server.review;

import dev.authservice.server.audit.read.EventReads.EventRef;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Sliding windows over events in time order, for the rules that count "within N minutes". */
final class Windows {
  private Windows() {}

  /**
   * The span of at most {@code within} holding the most distinct keys, if it holds at least
   * {@code atLeast}: its events. Counting events is counting their ids.
   */
  static Optional<List<EventRef>> densest(List<EventRef> sorted, Duration within, Function<EventRef, String> key,
      int atLeast) {
    Map<String, Integer> inSpan = new HashMap<>();
    int from = 0;
    int bestFrom = 0;
    int bestTo = -1;
    int best = 0;
    for (int to = 0; to < sorted.size(); to++) {
      inSpan.merge(key.apply(sorted.get(to)), 1, Integer::sum);
      while (Duration.between(sorted.get(from).time(), sorted.get(to).time()).compareTo(within) > 0) {
        inSpan.computeIfPresent(key.apply(sorted.get(from)), (k, n) -> n == 1 ? null : n - 1);
        from++;
      }
      if (inSpan.size() > best) {
        best = inSpan.size();
        bestFrom = from;
        bestTo = to;
      }
    }
    return best >= atLeast ? Optional.of(sorted.subList(bestFrom, bestTo + 1)) : Optional.empty();
  }

  /**
   * The span of at most {@code within} whose events stand for the most occurrences (a rollup
   * counts as its {@code count}), if they are at least {@code atLeast}: its events.
   */
  static Optional<List<EventRef>> heaviest(List<EventRef> sorted, Duration within, long atLeast) {
    long inSpan = 0;
    long best = 0;
    int from = 0;
    int bestFrom = 0;
    int bestTo = -1;
    for (int to = 0; to < sorted.size(); to++) {
      inSpan += sorted.get(to).count();
      while (Duration.between(sorted.get(from).time(), sorted.get(to).time()).compareTo(within) > 0) {
        inSpan -= sorted.get(from).count();
        from++;
      }
      if (inSpan > best) {
        best = inSpan;
        bestFrom = from;
        bestTo = to;
      }
    }
    return best >= atLeast ? Optional.of(sorted.subList(bestFrom, bestTo + 1)) : Optional.empty();
  }

  /** How many occurrences the events stand for. */
  static long occurrences(List<EventRef> events) {
    return events.stream().mapToLong(EventRef::count).sum();
  }
}
