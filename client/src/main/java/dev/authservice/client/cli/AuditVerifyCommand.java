package dev.authservice.client.cli;

import com.google.protobuf.Timestamp;
import dev.authservice.client.AuthClient;
import dev.authservice.client.integrity.OfflineVerification;
import dev.authservice.integrity.TrailReport;
import dev.authservice.proto.auth.v1.ChainReport;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "verify", description = "Verify the trail's hash chains and signed checkpoints, on the server or in an"
    + " export offline; prints a table per chain and exits 1 on any problem.")
final class AuditVerifyCommand implements Callable<Integer> {
  @ParentCommand AuditCommand audit;
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--since", converter = IsoDuration.class,
      description = "Verify only the last DURATION (ISO-8601, e.g. P7D), from the checkpoint before it.")
  Duration since;
  @Option(names = "--file", description = "An export (authctl audit export --format jsonl) to verify offline.")
  Path file;
  @Option(names = "--keys", description = "With --file: the audit public keys (authctl audit keys), a JWK Set file.")
  Path keys;

  Clock clock = Clock.systemUTC();

  static final String HEADER = String.format("%-40s %9s %10s %-20s %-16s %13s  %s", "CHAIN", "EVENTS", "UNANCHORED",
      "LAST_CHECKPOINT", "PROBLEM", "FIRST_BAD_SEQ", "DETAIL");

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    if ((file == null) != (keys == null)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--file and --keys go together");
    }
    if (file != null) {
      if (since != null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--since applies to the server; an export"
            + " covers what it was exported with");
      }
      OfflineVerification.Result result;
      try {
        result = OfflineVerification.verify(file, Files.readString(keys, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("authctl: " + TerminalText.safe(e.getMessage()));
        return ExitCodes.INACTIVE_OR_FAILED;
      }
      TrailReport report = result.report();
      if (result.version() == 1 && result.start().isPresent()) {
        spec.commandLine().getErr().println("authctl: note: a version 1 export made from a start time began each"
            + " chain at that time rather than at a checkpoint, so a chain without a checkpoint before it shows"
            + " missing events; export again with this authctl to verify such a window");
      }
      out.println(HEADER);
      for (dev.authservice.integrity.ChainReport chain : report.chains()) {
        out.println(row(chain.chain(), chain.events(), chain.unanchoredEvents(),
            chain.lastCheckpointMillis().isPresent() ? Optional.of(Instant.ofEpochMilli(
                chain.lastCheckpointMillis().getAsLong())) : Optional.empty(),
            chain.problem().map(Enum::name).orElse("-"), chain.firstBadSeq(), chain.detail()));
      }
      out.println(result.start().map(s -> "Window: from " + s + " (as the export's unsigned header says): each chain"
          + " verified from its own newest signed checkpoint at or before then, or from seq 1")
          .orElse("Window: the whole trail: each chain verified from seq 1 or from a signed purge checkpoint")
          + result.end().map(e -> "; up to " + e + " (events after the last checkpoint before it count as unanchored)")
              .orElse(""));
      return summary(out, report.ok(), report.eventsVerified(), report.checkpointsVerified(), report.unanchoredEvents());
    }
    VerifyAuditRequest.Builder request = VerifyAuditRequest.newBuilder();
    if (since != null) {
      Instant start = clock.instant().minus(since);
      request.setStartTime(Timestamp.newBuilder().setSeconds(start.getEpochSecond()).setNanos(start.getNano()));
    }
    try (AuthClient client = audit.root.connect()) {
      VerifyAuditResponse response = client.verifyAudit(request.build());
      out.println(HEADER);
      for (ChainReport chain : response.getChainsList()) {
        out.println(row(chain.getChain(), chain.getEvents(), chain.getUnanchoredEvents(),
            chain.hasLastCheckpointTime() ? Optional.of(Instant.ofEpochSecond(chain.getLastCheckpointTime().getSeconds(),
                chain.getLastCheckpointTime().getNanos())) : Optional.empty(),
            chain.getProblem().name().replace("AUDIT_PROBLEM_", "").replace("UNSPECIFIED", "-"),
            chain.getFirstBadSeq(), chain.getDetail()));
      }
      return summary(out, response.getOk(), response.getEventsVerified(), response.getCheckpointsVerified(),
          response.getUnanchoredEvents());
    }
  }

  /**
   * One chain's row. LAST_CHECKPOINT: the newest signed checkpoint naming the chain, to the
   * second; its events after it are the unanchored ones, which a cut would leave no trace of.
   */
  private static String row(String chain, long events, long unanchored, Optional<Instant> lastCheckpoint,
      String problem, long firstBad, String detail) {
    return String.format("%-40s %9d %10d %-20s %-16s %13s  %s", chain.isEmpty() ? "(no chain)" : TerminalText.safe(chain),
        events, unanchored, lastCheckpoint.map(t -> t.truncatedTo(ChronoUnit.SECONDS).toString()).orElse("-"), problem,
        firstBad == 0 ? "-" : Long.toString(firstBad), TerminalText.safe(detail)).stripTrailing();
  }

  private static int summary(PrintWriter out, boolean ok, long events, long checkpoints, long unanchored) {
    out.println((ok ? "OK: " : "PROBLEMS FOUND: ") + events + " events and " + checkpoints
        + " checkpoints verified; " + unanchored + " events not yet anchored by a checkpoint");
    out.flush();
    return ok ? ExitCodes.OK : ExitCodes.INACTIVE_OR_FAILED;
  }
}
