package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.client.report.AuditReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "report", description = "Write a self-contained HTML report of a period: logins and validations per hour,"
    + " top failing usernames and addresses, alerts, integrity (role auditor or admin).")
final class ReportCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--since", defaultValue = "P1D", converter = IsoDuration.class,
      description = "The period: the last DURATION (ISO-8601). Default: ${DEFAULT-VALUE}")
  Duration since;
  @Option(names = "--out", required = true, description = "The HTML file to write.") Path out;

  Clock clock = Clock.systemUTC();

  @Override
  public Integer call() throws IOException {
    if (since.compareTo(Duration.ofDays(31)) > 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--since is at most P31D for a report");
    }
    Instant end = clock.instant();
    System.setProperty("java.awt.headless", "true");
    try (AuthClient client = root.connect()) {
      Files.writeString(out, new AuditReport(client).html(end.minus(since), end), StandardCharsets.UTF_8);
    }
    spec.commandLine().getOut().println("wrote " + out);
    return ExitCodes.OK;
  }
}
