package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.client.export.CsvEvents;
import dev.authservice.client.export.OcsfEvents;
import dev.authservice.client.integrity.ExportFile;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.ChainHead;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "export", description = "Stream the trail oldest first for a SIEM or an archive (role auditor or admin):"
    + " jsonl (events and the signed checkpoints, verifiable offline), csv, or ocsf (OCSF 1.4 JSON lines).")
final class AuditExportCommand implements Callable<Integer> {
  /** How much earlier than its chain's predecessors an event may be timed (a validation rollup). */
  private static final Duration LATE_TIME_SLACK = Duration.ofMinutes(2);
  private static final Duration CHECKPOINT_POLL = Duration.ofSeconds(10);

  @ParentCommand AuditCommand audit;
  @Spec CommandLine.Model.CommandSpec spec;
  @Mixin TrailFilters filters;

  @Option(names = "--format", required = true, description = "jsonl, csv or ocsf.") String format;
  @Option(names = "--follow", description = "Keep going: write new events as they are recorded, like tail -f.") boolean follow;
  @Option(names = "--out", description = "Write to this file instead of standard output.") Path out;

  Clock clock = Clock.systemUTC();

  @Override
  public Integer call() throws IOException {
    CommandLine cli = spec.commandLine();
    if (!List.of("jsonl", "csv", "ocsf").contains(format)) {
      throw new CommandLine.ParameterException(cli, "--format must be jsonl, csv or ocsf");
    }
    Optional<Instant> start = filters.startInstant(cli, clock);
    Optional<Instant> end = filters.endInstant(cli);
    if (format.equals("jsonl") && filters.narrowsEvents()) {
      cli.getErr().println("authctl: note: an export narrowed by type, outcome, username or address has gaps in"
          + " its chains and will not verify offline");
    }
    try (AuthClient client = audit.root.connect()) {
      if (out == null) {
        return export(client, cli.getOut(), start, end);
      }
      try (Writer writer = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
          PrintWriter sink = new PrintWriter(writer)) {
        return export(client, sink, start, end);
      }
    }
  }

  private int export(AuthClient client, PrintWriter sink, Optional<Instant> start, Optional<Instant> end) {
    CommandLine cli = spec.commandLine();
    StreamAuditRequest.Builder request = StreamAuditRequest.newBuilder().setFollow(follow)
        .addAllTypes(filters.eventTypes(cli)).setOutcome(filters.auditOutcome(cli))
        .setUsername(filters.username).setClientIp(filters.clientIp);
    end.ifPresent(e -> request.setEndTime(TrailFilters.timestamp(e)));
    CheckpointWriter checkpoints = format.equals("jsonl") ? new CheckpointWriter(client, sink) : null;
    if (checkpoints != null) {
      ExportFile.header(sink, start, clock.instant());
      // a chain verifies from a checkpoint on: start the events early enough that every chain's
      // last checkpoint before the start is covered
      start.map(s -> checkpoints.anchorTime(s).minus(LATE_TIME_SLACK))
          .ifPresent(s -> request.setStartTime(TrailFilters.timestamp(s)));
    } else {
      start.ifPresent(s -> request.setStartTime(TrailFilters.timestamp(s)));
    }
    CsvEvents csv = format.equals("csv") ? new CsvEvents(sink) : null;
    ScheduledExecutorService poller = null;
    if (checkpoints != null && follow) {
      poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "checkpoints");
        t.setDaemon(true);
        return t;
      });
      poller.scheduleWithFixedDelay(checkpoints::writeNew, CHECKPOINT_POLL.toMillis(), CHECKPOINT_POLL.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    try (Stream<StreamAuditResponse> stream = client.streamAudit(request.build())) {
      stream.forEach(response -> {
        synchronized (sink) {
          switch (format) {
            case "jsonl" -> sink.println(ExportFile.line(response.getEvent()));
            case "csv" -> csv.write(response.getEvent());
            default -> sink.println(OcsfEvents.json(response.getEvent()));
          }
          if (follow) {
            if (csv != null) {
              csv.flush();
            }
            sink.flush();
          }
        }
      });
    } finally {
      if (poller != null) {
        poller.shutdownNow();
      }
    }
    if (checkpoints != null) {
      checkpoints.writeNew();
    }
    if (csv != null) {
      csv.flush();
    }
    sink.flush();
    return ExitCodes.OK;
  }

  /** Writes every signed checkpoint once, so the export carries what vouches for its events. */
  private static final class CheckpointWriter {
    private final AuthClient client;
    private final PrintWriter sink;
    private final Set<String> written = new HashSet<>();
    private final List<AuditCheckpoint> all;

    CheckpointWriter(AuthClient client, PrintWriter sink) {
      this.client = client;
      this.sink = sink;
      this.all = client.auditCheckpoints(ListAuditCheckpointsRequest.getDefaultInstance()).toList();
    }

    /** The earliest of each chain's last checkpoint at or before {@code start} (or {@code start}). */
    Instant anchorTime(Instant start) {
      Map<String, Instant> lastBefore = new HashMap<>();
      for (AuditCheckpoint c : all) {
        Instant time = Instant.ofEpochSecond(c.getTime().getSeconds(), c.getTime().getNanos());
        if (!time.isAfter(start)) {
          lastBefore.merge(c.getChain(), time, (a, b) -> a.isAfter(b) ? a : b);
          for (ChainHead head : c.getHeadsList()) {
            lastBefore.merge(head.getChain(), time, (a, b) -> a.isAfter(b) ? a : b);
          }
        }
      }
      return lastBefore.values().stream().min(Instant::compareTo).filter(t -> t.isBefore(start)).orElse(start);
    }

    void writeNew() {
      List<AuditCheckpoint> now = client.auditCheckpoints(ListAuditCheckpointsRequest.getDefaultInstance()).toList();
      synchronized (sink) {
        for (AuditCheckpoint c : now) {
          if (written.add(c.getCheckpointHash() + c.getSignature().hashCode())) {
            sink.println(ExportFile.line(c));
          }
        }
        sink.flush();
      }
    }
  }
}
