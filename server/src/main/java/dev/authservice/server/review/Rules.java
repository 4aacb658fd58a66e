package dev.authservice.server.review;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.AuditOutcome;
import dev.authservice.server.audit.read.AuditPosition;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.audit.read.EventReads.EventRef;
import dev.authservice.server.audit.AuditEvent;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The review's rules. Each asks the store for the window's relevant events, grouped by what it
 * is about, with one aggregation (real MongoDB and the embedded store run the same pipeline),
 * and looks at each group in time order.
 */
final class Rules {
  static final String FAILED_LOGIN_BURST = "FAILED_LOGIN_BURST";
  static final String CREDENTIAL_STUFFING = "CREDENTIAL_STUFFING";
  static final String SUCCESS_AFTER_FAILURES = "SUCCESS_AFTER_FAILURES";
  static final String NEW_ADDRESS = "NEW_ADDRESS";
  static final String TOKEN_FORGERY = "TOKEN_FORGERY";
  static final String REVOKED_TOKEN_USE = "REVOKED_TOKEN_USE";
  static final String OFF_HOURS_ADMIN = "OFF_HOURS_ADMIN";

  // a lifetime longer than ours means a token signed with our key elsewhere: forgery with a stolen key
  private static final Set<String> FORGERY_REASONS = Set.of("VALIDATION_FAILURE_BAD_SIGNATURE",
      "VALIDATION_FAILURE_UNSUPPORTED_ALGORITHM", "VALIDATION_FAILURE_UNKNOWN_KEY",
      "VALIDATION_FAILURE_LIFETIME_TOO_LONG");
  private static final Set<String> REVOKED_REASONS = Set.of("VALIDATION_FAILURE_REVOKED",
      "VALIDATION_FAILURE_USER_DISABLED");
  private static final Set<AuditEventType> ADMIN_ACTIONS = Set.of(AuditEventType.USER_CREATE,
      AuditEventType.USER_DISABLE, AuditEventType.USER_UNLOCK, AuditEventType.KEY_ROTATE);

  private Rules() {}

  static List<ReviewRule> of(ReviewSettings s) {
    List<ReviewRule> rules = new ArrayList<>();
    int max = s.maxEvents();
    s.failedLoginBurst().ifPresent(t -> rules.add(failedLoginBurst(t, max)));
    s.credentialStuffing().ifPresent(t -> rules.add(credentialStuffing(t, max)));
    s.successAfterFailures().ifPresent(t -> rules.add(successAfterFailures(t, max)));
    s.newAddress().ifPresent(h -> rules.add(newAddress(h, max)));
    s.tokenForgery().ifPresent(t -> rules.add(tokenForgery(t, max)));
    if (s.revokedTokenUse()) {
      rules.add(revokedTokenUse(max));
    }
    s.adminHours().ifPresent(h -> rules.add(offHoursAdmin(h, max)));
    return rules;
  }

  private static AuditFilter events(ReviewWindow w, Set<AuditEventType> types, Optional<AuditOutcome> outcome) {
    return new AuditFilter(types, Optional.empty(), outcome, Optional.of(w.start()), Optional.of(w.end()),
        Optional.empty(), Optional.empty());
  }

  private static List<String> ids(List<EventRef> refs) {
    return refs.stream().map(EventRef::id).toList();
  }

  static ReviewRule failedLoginBurst(ReviewSettings.Threshold t, int maxEvents) {
    return (w, store) -> {
      List<Finding> found = new ArrayList<>();
      store.grouped(events(w, Set.of(AuditEventType.LOGIN), Optional.of(AuditOutcome.FAILURE)), Set.of(),
          "username", maxEvents)
          .forEach((username, failures) -> {
            if (!username.isEmpty()) {
              Windows.heaviest(failures, t.within(), t.count()).ifPresent(burst -> found.add(
                  new Finding(FAILED_LOGIN_BURST, "medium", username, username, "",
                      Windows.occurrences(burst) + " failed logins for '" + username + "' within " + t.within(),
                      ids(burst), Windows.occurrences(burst))));
            }
          });
      return found;
    };
  }

  static ReviewRule credentialStuffing(ReviewSettings.Threshold t, int maxEvents) {
    return (w, store) -> {
      List<Finding> found = new ArrayList<>();
      store.grouped(events(w, Set.of(AuditEventType.LOGIN), Optional.of(AuditOutcome.FAILURE)), Set.of(),
          "client_ip", maxEvents)
          .forEach((ip, failures) -> {
            if (!ip.isEmpty()) {
              Windows.densest(failures, t.within(), EventRef::username, t.count()).ifPresent(span -> {
                long users = span.stream().map(EventRef::username).distinct().count();
                found.add(new Finding(CREDENTIAL_STUFFING, "high", ip, "", ip, "failed logins for " + users
                    + " usernames from " + ip + " within " + t.within(), ids(span), span.size()));
              });
            }
          });
      return found;
    };
  }

  static ReviewRule successAfterFailures(ReviewSettings.Threshold t, int maxEvents) {
    return (w, store) -> {
      List<Finding> found = new ArrayList<>();
      store.grouped(events(w, Set.of(AuditEventType.LOGIN), Optional.empty()), Set.of(),
          "username", maxEvents)
          .forEach((username, logins) -> {
            Deque<EventRef> failures = new ArrayDeque<>();
            for (EventRef login : logins) {
              while (!failures.isEmpty() && failures.peekFirst().time().plus(t.within()).isBefore(login.time())) {
                failures.pollFirst();
              }
              if (login.outcome() == AuditOutcome.FAILURE) {
                failures.addLast(login);
              } else if (login.outcome() != AuditOutcome.SUCCESS) {
                // an outcome this version does not know (a newer version's): neither a success
                // that would be reported nor one that clears the failures before it
                continue;
              } else if (failures.size() >= t.count() && !username.isEmpty()) {
                List<String> evidence = new ArrayList<>(ids(new ArrayList<>(failures)));
                evidence.add(login.id());
                found.add(new Finding(SUCCESS_AFTER_FAILURES, "high", username, username, login.clientIp(),
                    "'" + username + "' logged in after " + failures.size() + " failures within " + t.within(),
                    evidence, failures.size() + 1));
                break;
              } else {
                failures.clear();
              }
            }
          });
      return found;
    };
  }

  static ReviewRule newAddress(ReviewSettings.History h, int maxEvents) {
    return (w, store) -> {
      List<Finding> found = new ArrayList<>();
      store.grouped(events(w, Set.of(AuditEventType.LOGIN), Optional.of(AuditOutcome.SUCCESS)), Set.of(),
          "username", maxEvents)
          .forEach((username, logins) -> {
            if (username.isEmpty()) {
              return;
            }
            Deque<String> recent = history(store, username, logins.get(0).time(), h.size());
            Map<String, List<String>> fresh = new LinkedHashMap<>();
            for (EventRef login : logins) {
              if (recent.size() >= h.minimum() && !recent.contains(login.clientIp())) {
                fresh.computeIfAbsent(login.clientIp(), k -> new ArrayList<>()).add(login.id());
              }
              recent.addLast(login.clientIp());
              while (recent.size() > h.size()) {
                recent.pollFirst();
              }
            }
            fresh.forEach((ip, evidence) -> found.add(new Finding(NEW_ADDRESS, "low", username + "|" + ip, username,
                ip, "'" + username + "' logged in from " + ip + ", an address not among the previous " + h.size()
                    + " successful logins", evidence, evidence.size())));
          });
      return found;
    };
  }

  /** The addresses of the user's last {@code size} successful logins before {@code before}, oldest first. */
  private static Deque<String> history(EventReads store, String username, Instant before, int size) {
    AuditFilter earlier = new AuditFilter(Set.of(AuditEventType.LOGIN), Optional.of(username),
        Optional.of(AuditOutcome.SUCCESS), Optional.empty(), Optional.of(before), Optional.empty(), Optional.empty());
    List<AuditEvent> newestFirst = store.find(earlier, Optional.<AuditPosition>empty(), size);
    Deque<String> oldestFirst = new ArrayDeque<>();
    newestFirst.forEach(e -> oldestFirst.addFirst(e.clientIp()));
    return oldestFirst;
  }

  static ReviewRule tokenForgery(ReviewSettings.Threshold t, int maxEvents) {
    return (w, store) -> {
      List<Finding> found = new ArrayList<>();
      store.grouped(events(w, Set.of(AuditEventType.TOKEN_VALIDATE), Optional.of(AuditOutcome.FAILURE)),
          FORGERY_REASONS, "client_ip", maxEvents).forEach((ip, failures) -> {
            if (!ip.isEmpty()) {
              Windows.heaviest(failures, t.within(), t.count()).ifPresent(span -> found.add(
                  new Finding(TOKEN_FORGERY, "high", ip, "", ip, Windows.occurrences(span)
                      + " tokens with bad signatures, algorithms, keys or lifetimes from " + ip + " within " + t.within(),
                      ids(span), Windows.occurrences(span))));
            }
          });
      return found;
    };
  }

  static ReviewRule revokedTokenUse(int maxEvents) {
    return (w, store) -> {
      Map<String, List<EventRef>> byUserAndAddress = new LinkedHashMap<>();
      store.grouped(events(w, Set.of(AuditEventType.TOKEN_VALIDATE), Optional.of(AuditOutcome.FAILURE)),
          REVOKED_REASONS, "username", maxEvents).forEach((username, uses) -> {
            for (EventRef use : uses) {
              byUserAndAddress.computeIfAbsent(username + "|" + use.clientIp(), k -> new ArrayList<>()).add(use);
            }
          });
      List<Finding> found = new ArrayList<>();
      byUserAndAddress.forEach((key, uses) -> {
        EventRef first = uses.get(0);
        found.add(new Finding(REVOKED_TOKEN_USE, "medium", key, first.username(), first.clientIp(),
            uses.size() + " validations of revoked or disabled tokens of '" + first.username() + "' from "
                + first.clientIp(), ids(uses), uses.size()));
      });
      return found;
    };
  }

  static ReviewRule offHoursAdmin(ReviewSettings.Hours hours, int maxEvents) {
    return (w, store) -> {
      List<Finding> found = new ArrayList<>();
      store.grouped(events(w, ADMIN_ACTIONS, Optional.of(AuditOutcome.SUCCESS)), Set.of(),
          "actor", maxEvents)
          .forEach((actor, actions) -> {
            List<EventRef> off = actions.stream()
                .filter(a -> !hours.contains(a.time().atZone(ZoneOffset.UTC).toLocalTime())).toList();
            if (!off.isEmpty() && !actor.isEmpty()) {
              found.add(new Finding(OFF_HOURS_ADMIN, "medium", actor, actor, off.get(0).clientIp(),
                  off.size() + " admin actions by '" + actor + "' outside " + hours.from() + "-" + hours.to() + " UTC",
                  ids(off), off.size()));
            }
          });
      return found;
    };
  }
}
