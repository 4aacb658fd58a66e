package dev.authservice.server.telemetry;

import dev.authservice.server.audit.write.WriterMetrics;
import dev.authservice.server.review.ReviewMetrics;
import dev.authservice.server.usecase.UseCaseMetrics;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The service's own metrics, on the OpenTelemetry API: the use cases', the audit writer's and the
 * review's counts (their ports), and gauges read from the running parts. Names follow the
 * OpenTelemetry conventions; the Prometheus exporter turns {@code auth.logins} into
 * {@code auth_logins_total} and unit {@code s} into a {@code _seconds} suffix. No label ever holds
 * a username, token or address.
 */
public final class DomainMetrics implements UseCaseMetrics, WriterMetrics, ReviewMetrics {
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
  static final AttributeKey<String> REASON = AttributeKey.stringKey("reason");
  static final AttributeKey<String> VIA = AttributeKey.stringKey("via");
  static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("destination");
  static final AttributeKey<String> RULE = AttributeKey.stringKey("rule");
  static final AttributeKey<String> USE = AttributeKey.stringKey("use");
  /** Seconds: from a millisecond to a minute, where the writer's own timeouts end. */
  private static final List<Double> WRITE_BUCKETS = List.of(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0);

  private final Meter meter;
  private final LongCounter logins;
  private final LongCounter validations;
  private final LongCounter eventsWritten;
  private final DoubleHistogram writeLatency;
  private final LongCounter alerts;
  private final BoundedValues loginReasons = new BoundedValues(32);
  private final BoundedValues validationReasons = new BoundedValues(32);
  private final BoundedValues rules = new BoundedValues(32);

  /** The readings the gauges report, taken when metrics are collected. */
  public record Gauges(LongSupplier auditQueueDepth, LongSupplier auditSpoolDepth,
      Supplier<Instant> checkpointCoveredAt, Supplier<Instant> tokenKeyCreatedAt, Supplier<Instant> auditKeyCreatedAt,
      Clock clock) {}

  public DomainMetrics(Meter meter) {
    this.meter = meter;
    logins = meter.counterBuilder("auth.logins").setUnit("{login}")
        .setDescription("Login calls answered, by outcome and failure reason").build();
    validations = meter.counterBuilder("auth.validations").setUnit("{validation}")
        .setDescription("Tokens checked, by the call that asked (via), outcome and failure reason").build();
    eventsWritten = meter.counterBuilder("auth.audit.events.written").setUnit("{event}")
        .setDescription("Audit events made durable, by destination (store, or the local spool)").build();
    writeLatency = meter.histogramBuilder("auth.audit.write.duration").setUnit("s")
        .setDescription("Time from an audit event being queued to its being durable")
        .setExplicitBucketBoundariesAdvice(WRITE_BUCKETS).build();
    alerts = meter.counterBuilder("auth.review.alerts").setUnit("{alert}")
        .setDescription("New alerts of the suspicious-activity review, by rule").build();
  }

  /** Registers the gauges; they are read at each scrape. */
  public void observe(Gauges g) {
    meter.gaugeBuilder("auth.audit.queue.depth").ofLongs().setUnit("{event}")
        .setDescription("Audit events queued for the writer")
        .buildWithCallback(m -> m.record(g.auditQueueDepth().getAsLong()));
    meter.gaugeBuilder("auth.audit.spool.depth").ofLongs().setUnit("{event}")
        .setDescription("Audit events in the local spool, waiting for the store")
        .buildWithCallback(m -> m.record(g.auditSpoolDepth().getAsLong()));
    meter.gaugeBuilder("auth.audit.checkpoint.age").setUnit("s")
        .setDescription("Seconds since this instance's chain was last wholly covered by a signed checkpoint")
        .buildWithCallback(m -> m.record(secondsSince(g.checkpointCoveredAt().get(), g.clock())));
    meter.gaugeBuilder("auth.signing_key.age").setUnit("s")
        .setDescription("Age of the key that signs now, by use (token or audit)")
        .buildWithCallback(m -> {
          m.record(secondsSince(g.tokenKeyCreatedAt().get(), g.clock()), Attributes.of(USE, "token"));
          m.record(secondsSince(g.auditKeyCreatedAt().get(), g.clock()), Attributes.of(USE, "audit"));
        });
  }

  @Override
  public void login(boolean succeeded, String reason) {
    logins.add(1, Attributes.of(OUTCOME, succeeded ? "success" : "failure",
        REASON, succeeded ? "none" : loginReasons.of(reason)));
  }

  @Override
  public void validation(Via via, boolean active, String reason) {
    validations.add(1, Attributes.of(VIA, via.name().toLowerCase(Locale.ROOT), OUTCOME, active ? "active" : "inactive",
        REASON, active ? "none" : validationReasons.of(reason)));
  }

  @Override
  public void durable(Destination destination, List<Duration> enqueueToDurable) {
    Attributes where = Attributes.of(DESTINATION, destination.name().toLowerCase(Locale.ROOT));
    eventsWritten.add(enqueueToDurable.size(), where);
    for (Duration waited : enqueueToDurable) {
      writeLatency.record(waited.toNanos() / 1e9, where);
    }
  }

  @Override
  public void alert(String rule) {
    alerts.add(1, Attributes.of(RULE, rules.of(rule)));
  }

  private static double secondsSince(Instant then, Clock clock) {
    return Math.max(0, Duration.between(then, clock.instant()).toMillis() / 1000.0);
  }
}
