package dev.authservice.server;

import dev.authservice.server.telemetry.DomainMetrics;
import dev.authservice.server.telemetry.PrometheusText;
import io.grpc.ServerBuilder;
import io.grpc.opentelemetry.GrpcOpenTelemetry;
import io.grpc.opentelemetry.InternalGrpcOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.exporter.prometheus.PrometheusMetricReader;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.resources.Resource;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metrics and traces: one OpenTelemetry SDK per server, its metrics read by a Prometheus reader
 * that the admin listener renders at {@code /metrics}; gRPC's own metrics (gRFC A66) from
 * grpc-opentelemetry on the gRPC server; the service's own through {@link DomainMetrics}. Traces
 * are exported only when the standard {@code OTEL_*} variables ask for OTLP ({@link ServerConfig#otel}
 * not empty), then configured by the SDK's autoconfiguration from those variables.
 */
final class Observability implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Observability.class);
  static final String INSTRUMENTATION = "dev.authservice.server";

  private final OpenTelemetrySdk sdk;
  private final boolean tracing;
  final DomainMetrics metrics;
  final PrometheusText prometheus;

  private Observability(OpenTelemetrySdk sdk, boolean tracing, PrometheusMetricReader reader) {
    this.sdk = sdk;
    this.tracing = tracing;
    this.metrics = new DomainMetrics(sdk.getMeter(INSTRUMENTATION));
    this.prometheus = new PrometheusText(reader);
  }

  static Observability open(ServerConfig config) {
    PrometheusMetricReader reader = PrometheusMetricReader.builder().setOtelScopeLabelsEnabled(false).build();
    Resource resource = Resource.getDefault().merge(Resource.builder()
        .put("service.name", "auth-server").put("service.instance.id", config.instanceId()).build());
    if (config.otel().isEmpty()) {
      return new Observability(OpenTelemetrySdk.builder()
          .setMeterProvider(SdkMeterProvider.builder().setResource(resource).registerMetricReader(reader).build())
          .build(), false, reader);
    }
    Map<String, String> defaults = new HashMap<>(config.otel());
    defaults.putIfAbsent("otel.service.name", "auth-server");
    OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults)
        // metrics are scraped from /metrics, logs go to stderr: only traces are exported
        .addPropertiesCustomizer(c -> Map.of("otel.metrics.exporter", "none", "otel.logs.exporter", "none"))
        .addResourceCustomizer((r, c) -> r.merge(Resource.builder()
            .put("service.instance.id", config.instanceId()).build()))
        .addMeterProviderCustomizer((builder, c) -> builder.registerMetricReader(reader))
        .disableShutdownHook()
        .build().getOpenTelemetrySdk();
    log.info("exporting traces over OTLP as the OTEL_* settings say");
    return new Observability(sdk, true, reader);
  }

  OpenTelemetry openTelemetry() {
    return sdk;
  }

  /** gRPC server metrics (gRFC A66 names) and, when traces are exported, a span per RPC. */
  void instrument(ServerBuilder<?> server) {
    GrpcOpenTelemetry.Builder grpc = GrpcOpenTelemetry.newBuilder().sdk(sdk);
    if (tracing) {
      // grpc-java 1.85 offers RPC spans only through this internal switch; without it no spans
      InternalGrpcOpenTelemetry.enableTracing(grpc, true);
    }
    grpc.build().configureServerBuilder(server);
  }

  /** Flushes spans still buffered. */
  @Override
  public void close() {
    sdk.close();
  }
}
