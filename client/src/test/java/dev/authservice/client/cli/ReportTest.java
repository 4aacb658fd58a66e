package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import dev.authservice.client.AuthClient;
import dev.authservice.client.RunningServer;
import dev.authservice.proto.auth.v1.RunReviewRequest;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** authctl report writes one self-contained page, and every chart in it draws in a real browser (headless Chromium). */
class ReportTest {
  private static final List<String> CHARTS = List.of("logins", "validations", "failing-usernames", "failing-addresses",
      "alerts");
  @TempDir Path dir;

  private static Path chromium() {
    for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    boolean required = "1".equals(System.getenv("AUTH_REQUIRE_BROWSER_TESTS"));
    if (required) {
      throw new AssertionError("Chromium is required (AUTH_REQUIRE_BROWSER_TESTS=1) but is not installed");
    }
    Assumptions.abort("no Chromium here (apt-get install chromium); .ci/run installs it and requires this test");
    return null;
  }

  /** Runs headless Chromium the way this machine allows: no sandbox as root, no background network. */
  private String browser(Path chromium, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + dir.resolve("profile")));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectError(dir.resolve("chromium.log").toFile()).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "Chromium finished");
    assertEquals(0, process.exitValue(), Files.readString(dir.resolve("chromium.log")));
    return out;
  }

  @Test
  void theReportIsSelfContainedAndEveryChartDrawsInChromium() throws Exception {
    Path chromium = chromium();
    try (RunningServer server = new RunningServer();
        AuthClient anonymous = AuthClient.builder().target(server.target()).plaintext().build()) {
      String token = anonymous.login(RunningServer.ADMIN, RunningServer.ADMIN_PASSWORD, "").getAccessToken();
      AuthClient admin = anonymous.withBearerToken(token);
      for (int i = 0; i < 12; i++) {
        try {
          anonymous.login("mallory", "not-the-password-" + i, "");
        } catch (StatusRuntimeException expected) {
          // failed logins are the point
        }
      }
      for (int i = 0; i < 20; i++) {
        anonymous.validate(token, "");
      }
      anonymous.validate("a.b.c", "");
      // the attempts refused once mallory is throttled are counted together and written at the next flush
      dev.authservice.client.Await.until("all 12 failed logins of mallory in the trail", 20, Duration.ofMillis(250), () -> admin.queryAuditAll(
          dev.authservice.proto.auth.v1.QueryAuditRequest.newBuilder().setUsername("mallory")
              .addTypes(dev.authservice.proto.auth.v1.AuditEventType.AUDIT_EVENT_TYPE_LOGIN).build())
          .mapToLong(e -> Math.max(1, e.getCount())).sum() >= 12);
      Instant now = Instant.now();
      admin.runReview(RunReviewRequest.newBuilder().setStartTime(ts(now.minus(Duration.ofHours(1))))
          .setEndTime(ts(now.plus(Duration.ofMinutes(1)))).build());

      Path report = dir.resolve("report.html");
      CommandLine cli = AuthCtl.commandLine(new ByteArrayInputStream(new byte[0]),
          Map.of("AUTHCTL_TARGET", server.target(), "AUTHCTL_TOKEN", token)::get);
      StringWriter err = new StringWriter();
      cli.setErr(new PrintWriter(err));
      cli.setOut(new PrintWriter(new StringWriter()));
      assertEquals(0, cli.execute("report", "--since", "PT2H", "--out", report.toString()), err.toString());

      String html = Files.readString(report);
      assertFalse(Pattern.compile("(src|href)\\s*=\\s*\"(https?:)?//").matcher(html).find(), "no external resources");
      assertFalse(html.contains("<link"), "no stylesheets fetched");
      assertTrue(html.contains("FAILED_LOGIN_BURST"), "the alert of the period is listed");
      assertTrue(html.contains("The trail verifies"), "the integrity status is shown");

      String dom = browser(chromium, "--virtual-time-budget=5000", "--dump-dom", report.toUri().toString());
      for (String chart : CHARTS) {
        Matcher figure = Pattern.compile("<figure class=\"chart\" data-chart=\"" + chart + "\"([^>]*)>").matcher(dom);
        assertTrue(figure.find(), "chart " + chart + " is on the page");
        assertTrue(figure.group(1).contains("data-drawn=\"true\""), "chart " + chart + " drew in the browser");
      }
      Path screenshot = dir.resolve("report.png");
      browser(chromium, "--window-size=1000,2600", "--screenshot=" + screenshot, report.toUri().toString());
      assertTrue(Files.size(screenshot) > 20_000, "a screenshot with something in it");
      Path keep = Path.of(System.getProperty("report.screenshot", ""));
      if (!keep.toString().isEmpty()) {
        Files.copy(screenshot, keep, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(report, Path.of(keep.toString().replace(".png", ".html")),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
