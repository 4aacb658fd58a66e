package dev.authservice.server.review;

import java.util.List;

/**
 * What a rule found in a window: about whom ({@code username}) and from where ({@code clientIp}),
 * and the events that show it. {@code subjectKey} is what makes it one finding: the same rule,
 * subject and window always give the same alert.
 */
public record Finding(String rule, String severity, String subjectKey, String username, String clientIp,
    String summary, List<String> evidenceEventIds, long count) {
  static final int MAX_EVIDENCE = 100;

  public Finding {
    evidenceEventIds = evidenceEventIds.size() > MAX_EVIDENCE ? List.copyOf(evidenceEventIds.subList(0, MAX_EVIDENCE))
        : List.copyOf(evidenceEventIds);
  }
}
