package dev.authservice.server.audit.read;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** What SummarizeAudit counts, and the rows it counts into. */
public final class AuditSummary {
  private AuditSummary() {}


  /** A field to group by, under its stored name. */
  public enum Dimension {
    TYPE("type", false), OUTCOME("outcome", false), USERNAME("username", true), CLIENT_IP("client_ip", true),
    RPC_METHOD("rpc_method", false), REASON("reason", true);

    private final String field;
    private final boolean unbounded;

    Dimension(String field, boolean unbounded) {
      this.field = field;
      this.unbounded = unbounded;
    }

    public String field() {
      return field;
    }

    /** Whether callers choose its values (a username at Login needs no account): any number of them. */
    public boolean unbounded() {
      return unbounded;
    }
  }

  /**
   * Counts rows in memory with at most {@code maxRows} distinct ones: each row counted before the
   * cap was reached is exact; every event of a row not yet seen after that counts into its
   * bucket's {@code other} row, so the totals stay exact and the memory bounded.
   */
  public static final class Counter {
    /** {@code keys} null: the bucket's row for every group past the cap. */
    private record Key(Optional<Instant> bucket, List<String> keys) {}

    private final int maxRows;
    private final int dimensions;
    private final java.util.Map<Key, long[]> counts = new java.util.HashMap<>();

    public Counter(int maxRows, int dimensions) {
      this.maxRows = maxRows;
      this.dimensions = dimensions;
    }

    public void add(Optional<Instant> bucket, List<String> keys, long n) {
      Key key = new Key(bucket, keys);
      long[] count = counts.get(key);
      if (count == null) {
        if (counts.size() >= maxRows) {
          key = new Key(bucket, null);
        }
        count = counts.computeIfAbsent(key, k -> new long[1]);
      }
      count[0] += n;
    }

    public List<Row> rows() {
      List<Row> rows = new java.util.ArrayList<>(counts.size());
      counts.forEach((k, n) -> rows.add(k.keys() == null ? Row.other(k.bucket(), n[0])
          : new Row(k.bucket(), k.keys(), n[0], false)));
      return rows;
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

    /** The start of the bucket a time falls in (UTC boundaries), empty for the whole range. */
    public Optional<Instant> bucketOf(Instant time) {
      if (bucket == Bucket.WHOLE_RANGE) {
        return Optional.empty();
      }
      long width = bucket.width().toMillis();
      long millis = time.toEpochMilli();
      return Optional.of(Instant.ofEpochMilli(millis - Math.floorMod(millis, width)));
    }
  }

  /**
   * Rows sorted by bucket, then count descending, then keys, the bucket's other row last; at most {@code limitPerBucket} per
   * bucket (the largest counts), 0 meaning all.
   */
  public static List<Row> ordered(List<Row> rows, int limitPerBucket) {
    List<Row> sorted = new java.util.ArrayList<>(rows);
    sorted.sort(java.util.Comparator.<Row, Instant>comparing(r -> r.bucketStart().orElse(Instant.MIN))
        .thenComparing((Row r) -> r.other())
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
      if (row.other() || inBucket++ < limitPerBucket) {
        capped.add(row);
      }
    }
    return capped;
  }

  /**
   * One count: its bucket's start (empty for the whole range), its keys in group-by order; or,
   * {@code other}, the bucket's count of every group past the cap (no keys: any value a caller
   * can choose could be mistaken for a marker).
   */
  public record Row(Optional<Instant> bucketStart, List<String> keys, long count, boolean other) {
    public Row {
      keys = List.copyOf(keys);
    }

    static Row other(Optional<Instant> bucketStart, long count) {
      return new Row(bucketStart, List.of(), count, true);
    }
  }
}
