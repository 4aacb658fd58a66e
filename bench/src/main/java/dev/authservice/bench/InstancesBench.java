package dev.authservice.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidationFailure;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Several instances on one store: Validate throughput over all of them at once (calls in flight
 * spread evenly, one token per instance), and meanwhile, round after round, a token issued and
 * revoked on one instance and validated on each other one until it answers revoked: the
 * revocation's propagation time, from the answered Revoke to the other instance's refusal.
 */
@Command(name = "instances", description = "Validate throughput over several instances on one store, and how long"
    + " a revocation takes to reach the other instances.")
final class InstancesBench implements Callable<Integer> {
  @Option(names = "--targets", required = true, split = ",", description = "host:port of each instance") List<String> targets;
  @Option(names = "--concurrency", defaultValue = "64", description = "Calls in flight over all instances.") int concurrency;
  @Option(names = "--warmup", defaultValue = "PT5S") Duration warmup;
  @Option(names = "--duration", defaultValue = "PT10S") Duration duration;
  @Option(names = "--admin", defaultValue = "admin") String admin;
  @Option(names = "--admin-password", defaultValue = "${env:AUTH_BOOTSTRAP_ADMIN_PASSWORD}") String adminPassword;
  @Option(names = "--label", defaultValue = "Validate over the instances, audit every") String label;
  @Option(names = "--markdown", defaultValue = "target/bench-load.md", description = "Appends the table row here.") Path markdown;
  @Option(names = "--json", defaultValue = "target/bench-load.jsonl", description = "Appends one JSON line here.") Path json;

  @Override
  public Integer call() throws Exception {
    List<ManagedChannel> channels = targets.stream()
        .map(t -> (ManagedChannel) NettyChannelBuilder.forTarget(t).usePlaintext().build()).toList();
    try {
      List<ValidateRequest> requests = new ArrayList<>();
      for (ManagedChannel channel : channels) {
        requests.add(ValidateRequest.newBuilder().setToken(login(channel).getAccessToken()).build());
      }
      load(channels, requests, warmup, new Histogram(3), new AtomicBoolean());
      Histogram latencies = new Histogram(3);
      Histogram propagation = new Histogram(3);
      AtomicBoolean measuring = new AtomicBoolean(true);
      Thread revoker = new Thread(() -> revokeRounds(channels, propagation, measuring), "revoker");
      if (channels.size() > 1) {
        revoker.start();
      }
      long calls = load(channels, requests, duration, latencies, measuring);
      revoker.join(TimeUnit.SECONDS.toMillis(30));
      double perSecond = calls / (duration.toNanos() / 1e9);
      String note = channels.size() == 1 ? "" : String.format(
          "revocation reached another instance in p50 %d ms, p99 %d ms, max %d ms (%d measured)",
          propagation.getValueAtPercentile(50), propagation.getValueAtPercentile(99), propagation.getMaxValue(),
          propagation.getTotalCount());
      report(channels.size(), perSecond, latencies, propagation, note);
      return 0;
    } finally {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private LoginResponse login(ManagedChannel channel) {
    return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .login(LoginRequest.newBuilder().setUsername(admin).setPassword(adminPassword).build());
  }

  /** Keeps the calls in flight, spread over the instances, for the time; returns the calls answered. */
  private long load(List<ManagedChannel> channels, List<ValidateRequest> requests, Duration length, Histogram latencies,
      AtomicBoolean measuring) throws InterruptedException {
    long end = System.nanoTime() + length.toNanos();
    CountDownLatch slotsDone = new CountDownLatch(concurrency);
    AtomicLong answered = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    for (int slot = 0; slot < concurrency; slot++) {
      int instance = slot % channels.size();
      issue(AuthServiceGrpc.newFutureStub(channels.get(instance)), requests.get(instance), end, latencies, answered,
          errors, slotsDone);
    }
    slotsDone.await();
    measuring.set(false);
    if (errors.get() > 0) {
      System.err.println(errors.get() + " calls failed");
    }
    return answered.get();
  }

  private void issue(AuthServiceGrpc.AuthServiceFutureStub stub, ValidateRequest request, long end, Histogram latencies,
      AtomicLong answered, AtomicLong errors, CountDownLatch slotsDone) {
    if (System.nanoTime() >= end) {
      slotsDone.countDown();
      return;
    }
    long start = System.nanoTime();
    Futures.addCallback(stub.validate(request), new FutureCallback<Object>() {
      @Override
      public void onSuccess(Object result) {
        synchronized (latencies) {
          latencies.recordValue(System.nanoTime() - start);
        }
        answered.incrementAndGet();
        issue(stub, request, end, latencies, answered, errors, slotsDone);
      }

      @Override
      public void onFailure(Throwable t) {
        errors.incrementAndGet();
        issue(stub, request, end, latencies, answered, errors, slotsDone);
      }
    }, MoreExecutors.directExecutor());
  }

  /** Revocation rounds until the measured load ends: milliseconds to each other instance's refusal. */
  private void revokeRounds(List<ManagedChannel> channels, Histogram propagation, AtomicBoolean measuring) {
    for (int round = 0; measuring.get(); round++) {
      ManagedChannel origin = channels.get(round % channels.size());
      LoginResponse login = login(origin);
      ValidateRequest check = ValidateRequest.newBuilder().setToken(login.getAccessToken()).build();
      List<ManagedChannel> others = channels.stream().filter(c -> c != origin).toList();
      for (ManagedChannel other : others) {
        stub(other).validate(check);   // cached there, as a busy token is
      }
      AuthServiceGrpc.newBlockingStub(origin).withDeadlineAfter(10, TimeUnit.SECONDS)
          .revoke(RevokeRequest.newBuilder().setToken(login.getAccessToken()).build());
      long revokedAt = System.nanoTime();
      for (ManagedChannel other : others) {
        // asked again at once: each answer is itself a Validate, so the resolution is one call's latency
        while (stub(other).validate(check).getFailure() != ValidationFailure.VALIDATION_FAILURE_REVOKED) {
          if (System.nanoTime() - revokedAt > TimeUnit.SECONDS.toNanos(10)) {
            throw new IllegalStateException("a revocation did not reach another instance within 10 s");
          }
        }
        propagation.recordValue((System.nanoTime() - revokedAt) / 1_000_000);
      }
    }
  }

  private static AuthServiceGrpc.AuthServiceBlockingStub stub(ManagedChannel channel) {
    return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private void report(int instances, double perSecond, Histogram h, Histogram propagation, String note)
      throws Exception {
    String row = String.format("| %s, %d instance%s | %d | %.0f | %.2f | %.2f | %.2f | - | %s |%n", label, instances,
        instances == 1 ? "" : "s", concurrency, perSecond, h.getValueAtPercentile(50) / 1e6,
        h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6, note);
    System.out.print(row);
    append(markdown, row);
    append(json, String.format("{\"label\":\"%s\",\"scenario\":\"INSTANCES\",\"instances\":%d,\"concurrency\":%d,"
            + "\"per_second\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"propagation_p50_ms\":%d,"
            + "\"propagation_p99_ms\":%d,\"propagation_max_ms\":%d}%n", label, instances, concurrency, perSecond,
        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6,
        propagation.getValueAtPercentile(50), propagation.getValueAtPercentile(99), propagation.getMaxValue()));
  }

  private static void append(Path file, String text) throws Exception {
    if (file.toAbsolutePath().getParent() != null) {
      Files.createDirectories(file.toAbsolutePath().getParent());
    }
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
