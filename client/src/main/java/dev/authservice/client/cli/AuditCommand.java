package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "audit", description = "Query the audit trail (role auditor or admin), newest first, following pages;"
    + " or verify, export or summarize it.",
    subcommands = {AuditVerifyCommand.class, AuditExportCommand.class, AuditKeysCommand.class})
final class AuditCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec CommandLine.Model.CommandSpec spec;
  @Mixin TrailFilters filters;

  @Option(names = "--token-id") String tokenId = "";
  @Option(names = "--trace-id", description = "Only events of the call with this W3C trace id (32 lowercase hex"
      + " digits, the second part of a traceparent header).")
  String traceId = "";
  @Option(names = "--limit", defaultValue = "100", description = "Most events to print; 0 for all. Default: ${DEFAULT-VALUE}")
  int limit;
  @Option(names = "--page-size", defaultValue = "0", description = "Events per request; 0: the server's default.")
  int pageSize;
  @Option(names = "--format", defaultValue = "table", description = "table or jsonl. Default: ${DEFAULT-VALUE}")
  String format;

  Clock clock = Clock.systemUTC();

  /** The request the options describe; exposed for tests. */
  QueryAuditRequest request() {
    CommandLine cli = spec.commandLine();
    QueryAuditRequest.Builder request = QueryAuditRequest.newBuilder()
        .setUsername(filters.username).setClientIp(filters.clientIp).setTokenId(tokenId).setTraceId(traceId.trim())
        .setPageSize(pageSize)
        .addAllTypes(filters.eventTypes(cli)).setOutcome(filters.auditOutcome(cli));
    filters.startInstant(cli, clock).ifPresent(s -> request.setStartTime(TrailFilters.timestamp(s)));
    filters.endInstant(cli).ifPresent(e -> request.setEndTime(TrailFilters.timestamp(e)));
    if (!format.equals("table") && !format.equals("jsonl")) {
      throw new CommandLine.ParameterException(cli, "--format must be table or jsonl");
    }
    if (!traceId.isBlank() && !traceId.trim().matches("[0-9a-f]{32}")) {
      throw new CommandLine.ParameterException(cli, "--trace-id must be 32 lowercase hex digits (a W3C trace id)");
    }
    if (limit < 0) {
      throw new CommandLine.ParameterException(cli, "--limit must not be negative");
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
}
