package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.client.export.CsvEvents;
import dev.authservice.client.export.OcsfEvents;
import dev.authservice.client.integrity.ExportFile;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
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
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
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
    // checkpoint times are whole milliseconds: compare them with a start of the same grain everywhere
    Optional<Instant> start = filters.startInstant(cli, clock).map(s -> s.truncatedTo(ChronoUnit.MILLIS));
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
    CheckpointWriter checkpoints = format.equals("jsonl") ? new CheckpointWriter(client, sink, start, end) : null;
    start.ifPresent(s -> request.setStartTime(TrailFilters.timestamp(s)));
    if (checkpoints != null) {
      ExportFile.header(sink, start, end, clock.instant());
      // each chain from right after its newest checkpoint at or before the start, so that its
      // first event links to a signed head the export carries
      request.setFromCheckpoints(true);
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

  /**
   * Writes, once each, the signed checkpoints that vouch for the exported events: without a start,
   * every one; from a start, each chain's newest checkpoint at or before it (the head its events
   * go on from), every purge checkpoint, and every checkpoint after the start. With an end, none
   * from the end on, so that the events after the last checkpoint before the end read as
   * unanchored rather than as a truncated chain.
   */
  private static final class CheckpointWriter {
    private final AuthClient client;
    private final PrintWriter sink;
    private final Optional<Instant> start;
    private final Optional<Instant> end;
    private final Set<String> written = new HashSet<>();

    CheckpointWriter(AuthClient client, PrintWriter sink, Optional<Instant> start, Optional<Instant> end) {
      this.client = client;
      this.sink = sink;
      this.start = start;
      this.end = end;
    }

    private static Instant time(AuditCheckpoint c) {
      return Instant.ofEpochSecond(c.getTime().getSeconds(), c.getTime().getNanos());
    }

    private List<AuditCheckpoint> needed(List<AuditCheckpoint> all) {
      Map<String, AuditCheckpoint> anchors = new HashMap<>();
      List<AuditCheckpoint> out = new ArrayList<>();
      for (AuditCheckpoint c : all) {
        Instant time = time(c);
        if (end.isPresent() && !time.isBefore(end.get()) && !c.getKind().equals("PURGE")) {
          continue;
        }
        if (start.isEmpty() || !time.isBefore(start.get()) || c.getKind().equals("PURGE")) {
          out.add(c);
        } else if (!time.isAfter(start.get())) {
          anchors.merge(c.getChain(), c, (a, b) -> b.getSeq() > a.getSeq()
              || (b.getSeq() == a.getSeq() && time(b).isAfter(time(a))) ? b : a);
        }
      }
      out.addAll(anchors.values());
      return out;
    }

    void writeNew() {
      List<AuditCheckpoint> now = needed(client.auditCheckpoints(ListAuditCheckpointsRequest.getDefaultInstance())
          .toList());
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
