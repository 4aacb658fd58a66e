package dev.authservice.server.http;

import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The management listener's routes: {@code /metrics} in the Prometheus text format,
 * {@code /health/live} (the process answers) and {@code /health/ready} (200 only while the store
 * is reachable: what the gRPC health service says). Nothing here is cached.
 */
public final class AdminEndpoints {
  public static final String METRICS = "/metrics";
  public static final String LIVE = "/health/live";
  public static final String READY = "/health/ready";
  /** Prometheus text exposition format 0.0.4. */
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private AdminEndpoints() {}

  /**
   * @param metrics renders every metric in the Prometheus text format
   * @param ready whether this instance should receive traffic
   */
  public static Map<String, Supplier<HttpResponse>> routes(Supplier<String> metrics, BooleanSupplier ready) {
    return Map.of(
        METRICS, () -> HttpResponse.uncached(200, PROMETHEUS_TEXT, metrics.get()),
        LIVE, () -> HttpResponse.uncached(200, HttpResponse.TEXT, "live\n"),
        READY, () -> ready.getAsBoolean()
            ? HttpResponse.uncached(200, HttpResponse.TEXT, "ready\n")
            : HttpResponse.uncached(503, HttpResponse.TEXT, "not ready: the store is unreachable\n"));
  }
}
