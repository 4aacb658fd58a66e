package dev.authservice.bench;

import dev.authservice.client.AuthClient;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Does Login's timing tell whether a username exists? Measures failed logins for existing
 * users (wrong password), unknown usernames and disabled users, interleaved so that drift
 * affects all alike, each username used once so that throttling never kicks in. Run it against
 * a server with {@code AUTH_IP_FAILURE_LIMIT=0}, since all attempts come from one address.
 */
@Command(name = "login-timing", description = "Latency of failed logins: existing vs unknown vs disabled usernames.")
final class LoginTimingBench implements Callable<Integer> {
  @Option(names = "--target", defaultValue = "127.0.0.1:50051") String target;
  @Option(names = "--admin", defaultValue = "admin") String admin;
  @Option(names = "--admin-password", defaultValue = "${env:AUTH_BOOTSTRAP_ADMIN_PASSWORD}") String adminPassword;
  @Option(names = "--samples", defaultValue = "300", description = "Attempts per kind.") int samples;
  @Option(names = "--json", defaultValue = "target/bench-login-timing.json") Path json;

  @Override
  public Integer call() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 6);
    try (AuthClient client = AuthClient.builder().target(target).plaintext().deadline(Duration.ofSeconds(30)).build()) {
      AuthClient asAdmin = client.withBearerToken(client.login(admin, adminPassword, "").getAccessToken());
      List<String> existing = new ArrayList<>();
      List<String> disabled = new ArrayList<>();
      for (int i = 0; i < samples; i++) {
        existing.add("timing-" + run + "-e" + i);
        disabled.add("timing-" + run + "-d" + i);
        asAdmin.createUser(existing.get(i), "Right-Password-" + i, List.of());
        asAdmin.createUser(disabled.get(i), "Right-Password-" + i, List.of());
        asAdmin.disableUser(disabled.get(i));
      }
      Map<String, Histogram> histograms = new LinkedHashMap<>();
      for (String kind : List.of("existing user, wrong password", "unknown username", "disabled user, right password")) {
        histograms.put(kind, new Histogram(3));
      }
      for (int i = 0; i < samples; i++) {
        time(client, existing.get(i), "Wrong-Password-" + i, histograms.get("existing user, wrong password"));
        time(client, "timing-" + run + "-u" + i, "Wrong-Password-" + i, histograms.get("unknown username"));
        time(client, disabled.get(i), "Right-Password-" + i, histograms.get("disabled user, right password"));
      }
      StringBuilder table = new StringBuilder("| failed login | n | p50 ms | p90 ms | p99 ms | mean ms |\n|---|---:|---:|---:|---:|---:|\n");
      StringBuilder out = new StringBuilder("[");
      for (Map.Entry<String, Histogram> e : histograms.entrySet()) {
        Histogram h = e.getValue();
        table.append(String.format("| %s | %d | %.1f | %.1f | %.1f | %.1f |%n", e.getKey(), h.getTotalCount(),
            ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)), h.getMean() / 1e6));
        out.append(out.length() > 1 ? "," : "").append(String.format(
            "{\"kind\":\"%s\",\"n\":%d,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"mean_ms\":%.2f}", e.getKey(),
            h.getTotalCount(), ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)),
            ms(h.getValueAtPercentile(99)), h.getMean() / 1e6));
      }
      System.out.print(table);
      Files.createDirectories(json.toAbsolutePath().getParent());
      Files.writeString(json, out.append("]\n").toString(), StandardCharsets.UTF_8);
    }
    return 0;
  }

  private static void time(AuthClient client, String username, String password, Histogram histogram) {
    long start = System.nanoTime();
    try {
      client.login(username, password, "");
      throw new IllegalStateException("login of " + username + " unexpectedly succeeded");
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNAUTHENTICATED) {
        throw e;
      }
    }
    histogram.recordValue(System.nanoTime() - start);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
