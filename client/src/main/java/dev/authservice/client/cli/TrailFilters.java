package dev.authservice.client.cli;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The audit filters authctl's audit commands share: types, outcome, username, address and time. */
final class TrailFilters {
  @Option(names = "--type", description = "Event type, repeatable: LOGIN, TOKEN_VALIDATE, ... or the full AUDIT_EVENT_TYPE_ name.")
  List<String> types = new ArrayList<>();
  @Option(names = "--username") String username = "";
  @Option(names = "--outcome", description = "success or failure.") String outcome;
  @Option(names = "--since", converter = IsoDuration.class, description = "Only events of the last DURATION (ISO-8601, e.g. PT1H, P7D).")
  Duration since;
  @Option(names = "--start", description = "Only events at or after this RFC 3339 instant.") String start;
  @Option(names = "--end", description = "Only events before this RFC 3339 instant.") String end;
  @Option(names = "--client-ip") String clientIp = "";

  List<AuditEventType> eventTypes(CommandLine cli) {
    List<AuditEventType> out = new ArrayList<>();
    for (String name : types) {
      String upper = name.trim().toUpperCase(Locale.ROOT);
      String full = upper.startsWith("AUDIT_EVENT_TYPE_") ? upper : "AUDIT_EVENT_TYPE_" + upper;
      try {
        AuditEventType type = AuditEventType.valueOf(full);
        if (type == AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED) {
          throw new IllegalArgumentException();
        }
        out.add(type);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cli, "unknown --type '" + name + "'");
      }
    }
    return out;
  }

  AuditOutcome auditOutcome(CommandLine cli) {
    if (outcome == null) {
      return AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED;
    }
    return switch (outcome.toLowerCase(Locale.ROOT)) {
      case "success", "audit_outcome_success" -> AuditOutcome.AUDIT_OUTCOME_SUCCESS;
      case "failure", "audit_outcome_failure" -> AuditOutcome.AUDIT_OUTCOME_FAILURE;
      default -> throw new CommandLine.ParameterException(cli, "--outcome must be success or failure");
    };
  }

  Optional<Instant> startInstant(CommandLine cli, Clock clock) {
    if (since != null && start != null) {
      throw new CommandLine.ParameterException(cli, "give --since or --start, not both");
    }
    if (since != null) {
      return Optional.of(clock.instant().minus(since));
    }
    return start == null ? Optional.empty() : Optional.of(parseInstant(cli, "--start", start));
  }

  Optional<Instant> endInstant(CommandLine cli) {
    return end == null ? Optional.empty() : Optional.of(parseInstant(cli, "--end", end));
  }

  boolean narrowsEvents() {
    return !types.isEmpty() || !username.isEmpty() || outcome != null || !clientIp.isEmpty();
  }

  private static Instant parseInstant(CommandLine cli, String option, String value) {
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new CommandLine.ParameterException(cli, option + " must be an RFC 3339 instant such as 2026-11-24T00:00:00Z");
    }
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
