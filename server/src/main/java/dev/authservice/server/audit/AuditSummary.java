package dev.authservice.server.audit;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** What SummarizeAudit counts, and the rows it counts into. */
public final class AuditSummary {
  private AuditSummary() {}

  /** A field to group by, under its stored name. */
  public enum Dimension {
    TYPE("type"), OUTCOME("outcome"), USERNAME("username"), CLIENT_IP("client_ip"), RPC_METHOD("rpc_method"),
    REASON("reason");

    private final String field;

    Dimension(String field) {
      this.field = field;
    }

    public String field() {
      return field;
    }
  }

  /** UTC buckets; {@code WHOLE_RANGE} is one bucket for everything. */
  public enum Bucket {
    WHOLE_RANGE(Duration.ZERO), MINUTE(Duration.ofMinutes(1)), HOUR(Duration.ofHours(1)), DAY(Duration.ofDays(1));

    private final Duration width;

    Bucket(Duration width) {
      this.width = width;
    }

    public Duration width() {
      return width;
    }
  }

  public record Query(AuditFilter filter, List<Dimension> groupBy, Bucket bucket) {
    public Query {
      groupBy = List.copyOf(groupBy);
    }
  }

  /**
   * Rows sorted by bucket, then count descending, then keys; at most {@code limitPerBucket} per
   * bucket (the largest counts), 0 meaning all.
   */
  public static List<Row> ordered(List<Row> rows, int limitPerBucket) {
    List<Row> sorted = new java.util.ArrayList<>(rows);
    sorted.sort(java.util.Comparator.<Row, Instant>comparing(r -> r.bucketStart().orElse(Instant.MIN))
        .thenComparing(Row::count, java.util.Comparator.reverseOrder())
        .thenComparing(r -> String.join("\u0000", r.keys())));
    if (limitPerBucket <= 0) {
      return sorted;
    }
    List<Row> capped = new java.util.ArrayList<>();
    Optional<Instant> bucket = null;
    int inBucket = 0;
    for (Row row : sorted) {
      if (!row.bucketStart().equals(bucket)) {
        bucket = row.bucketStart();
        inBucket = 0;
      }
      if (inBucket++ < limitPerBucket) {
        capped.add(row);
      }
    }
    return capped;
  }

  /** One count: its bucket's start (empty for the whole range), its keys in group-by order. */
  public record Row(Optional<Instant> bucketStart, List<String> keys, long count) {
    public Row {
      keys = List.copyOf(keys);
    }
  }
}
