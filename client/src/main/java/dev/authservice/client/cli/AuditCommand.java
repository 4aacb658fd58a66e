package dev.authservice.client.cli;

import com.google.protobuf.Timestamp;
import dev.authservice.client.AuthClient;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "audit", description = "Query the audit trail (role auditor or admin), newest first, following pages.")
final class AuditCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--type", description = "Event type, repeatable: LOGIN, TOKEN_VALIDATE, ... or the full AUDIT_EVENT_TYPE_ name.")
  List<String> types = new ArrayList<>();
  @Option(names = "--username") String username = "";
  @Option(names = "--outcome", description = "success or failure.") String outcome;
  @Option(names = "--since", converter = IsoDuration.class, description = "Only events of the last DURATION (ISO-8601, e.g. PT1H, P7D).")
  Duration since;
  @Option(names = "--start", description = "Only events at or after this RFC 3339 instant.") String start;
  @Option(names = "--end", description = "Only events before this RFC 3339 instant.") String end;
  @Option(names = "--client-ip") String clientIp = "";
  @Option(names = "--token-id") String tokenId = "";
  @Option(names = "--limit", defaultValue = "100", description = "Most events to print; 0 for all. Default: ${DEFAULT-VALUE}")
  int limit;
  @Option(names = "--page-size", defaultValue = "0", description = "Events per request; 0: the server's default.")
  int pageSize;
  @Option(names = "--format", defaultValue = "table", description = "table or jsonl. Default: ${DEFAULT-VALUE}")
  String format;

  Clock clock = Clock.systemUTC();

  /** The request the options describe; exposed for tests. */
  QueryAuditRequest request() {
    QueryAuditRequest.Builder request = QueryAuditRequest.newBuilder()
        .setUsername(username).setClientIp(clientIp).setTokenId(tokenId).setPageSize(pageSize);
    for (String type : types) {
      request.addTypes(eventType(type));
    }
    if (outcome != null) {
      request.setOutcome(switch (outcome.toLowerCase(Locale.ROOT)) {
        case "success", "audit_outcome_success" -> AuditOutcome.AUDIT_OUTCOME_SUCCESS;
        case "failure", "audit_outcome_failure" -> AuditOutcome.AUDIT_OUTCOME_FAILURE;
        default -> throw new CommandLine.ParameterException(spec.commandLine(), "--outcome must be success or failure");
      });
    }
    if (since != null && start != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "give --since or --start, not both");
    }
    if (since != null) {
      request.setStartTime(timestamp(clock.instant().minus(since)));
    }
    if (start != null) {
      request.setStartTime(timestamp(parseInstant("--start", start)));
    }
    if (end != null) {
      request.setEndTime(timestamp(parseInstant("--end", end)));
    }
    if (!format.equals("table") && !format.equals("jsonl")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--format must be table or jsonl");
    }
    if (limit < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--limit must not be negative");
    }
    return request.build();
  }

  @Override
  public Integer call() {
    QueryAuditRequest request = request();
    try (AuthClient client = root.connect()) {
      Stream<AuditEvent> events = client.queryAuditAll(request);
      if (limit > 0) {
        events = events.limit(limit);
      }
      EventFormat.print(spec.commandLine().getOut(), events::iterator, format.equals("jsonl"));
      return ExitCodes.OK;
    }
  }

  private AuditEventType eventType(String name) {
    String upper = name.trim().toUpperCase(Locale.ROOT);
    String full = upper.startsWith("AUDIT_EVENT_TYPE_") ? upper : "AUDIT_EVENT_TYPE_" + upper;
    try {
      AuditEventType type = AuditEventType.valueOf(full);
      if (type == AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED) {
        throw new IllegalArgumentException();
      }
      return type;
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "unknown --type '" + name + "'");
    }
  }

  private Instant parseInstant(String option, String value) {
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), option + " must be an RFC 3339 instant such as 2026-11-24T00:00:00Z");
    }
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
