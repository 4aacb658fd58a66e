package dev.authservice.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.Timestamp;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.QueryAuditResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.bson.Document;

/**
 * QueryAudit, a page of 100 newest first, for every filter shape the API offers: seeds events
 * spread over one day (mostly successful validations and logins; a few failures, alerts and
 * lockouts, as in a real trail), then runs each shape with a fixed number of calls in flight and
 * prints one table row per shape. Following pages reuse a page token taken from the first page.
 */
final class QueryShapesBench {
  private static final long DAY_MILLIS = 86_400_000L;
  private static final int PAGE = 100;

  private final AuthServiceGrpc.AuthServiceFutureStub auditor;
  private final String storeUri;
  private final String database;
  private final int seedEvents;
  private final int concurrency;
  private final Duration warmup;
  private final Duration duration;
  private final List<Path> outputs;

  QueryShapesBench(AuthServiceGrpc.AuthServiceFutureStub auditor, String storeUri, String database, int seedEvents,
      int concurrency, Duration warmup, Duration duration, Path markdown) {
    this.auditor = auditor;
    this.storeUri = storeUri;
    this.database = database;
    this.seedEvents = seedEvents;
    this.concurrency = concurrency;
    this.warmup = warmup;
    this.duration = duration;
    this.outputs = List.of(markdown);
  }

  int run() throws Exception {
    if (storeUri == null) {
      throw new IllegalArgumentException("QUERY_SHAPES needs --store-uri or --store-uri-file to seed events");
    }
    long start = (System.currentTimeMillis() - 2 * DAY_MILLIS) / 3_600_000L * 3_600_000L;
    long stored = seed(start);
    Map<String, QueryAuditRequest> shapes = shapes(start);
    // every shape gets the whole warm-up once; after that, a short one each (the JIT is warm by then)
    boolean first = true;
    for (Map.Entry<String, QueryAuditRequest> shape : shapes.entrySet()) {
      QueryAuditRequest request = shape.getValue();
      drive(request, first ? warmup : Duration.ofSeconds(1), null);
      first = false;
      Histogram h = drive(request, duration, new Recorder(3));
      String row = String.format("| QueryAudit %s | %d | %.0f | %.2f | %.2f | %.2f | - | page of %d, %d events stored |%n",
          shape.getKey(), concurrency, h.getTotalCount() / (duration.toNanos() / 1e9),
          h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6,
          PAGE, stored);
      System.out.print(row);
      for (Path out : outputs) {
        append(out, row);
      }
    }
    return 0;
  }

  /** Every filter the API offers, alone and in the combinations operators use, first pages and later ones. */
  private Map<String, QueryAuditRequest> shapes(long start) {
    Timestamp from = timestamp(start + 6 * 3_600_000L);
    Timestamp until = timestamp(start + 12 * 3_600_000L);
    Map<String, QueryAuditRequest.Builder> shapes = new LinkedHashMap<>();
    shapes.put("no filter", page());
    shapes.put("one type", page().addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN));
    shapes.put("two types", page().addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN)
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_REFRESH));
    shapes.put("alerts (rare type)", page().addTypes(AuditEventType.AUDIT_EVENT_TYPE_ALERT));
    shapes.put("username", page().setUsername("user-17"));
    shapes.put("username + type", page().setUsername("user-17").addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN));
    shapes.put("outcome success", page().setOutcome(AuditOutcome.AUDIT_OUTCOME_SUCCESS));
    shapes.put("outcome failure (rare)", page().setOutcome(AuditOutcome.AUDIT_OUTCOME_FAILURE));
    shapes.put("failure + type", page().setOutcome(AuditOutcome.AUDIT_OUTCOME_FAILURE)
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN));
    shapes.put("start", page().setStartTime(from));
    shapes.put("end", page().setEndTime(until));
    shapes.put("window", page().setStartTime(from).setEndTime(until));
    shapes.put("client address", page().setClientIp("10.0.0.17"));
    shapes.put("token", page().setTokenId("tok-17"));
    shapes.put("trace", page().setTraceId(traceId(17)));
    shapes.put("username + window", page().setUsername("user-17").setStartTime(from).setEndTime(until));
    shapes.put("address + window", page().setClientIp("10.0.0.17").setStartTime(from).setEndTime(until));
    shapes.put("token + window", page().setTokenId("tok-17").setStartTime(from).setEndTime(until));
    Map<String, QueryAuditRequest> requests = new LinkedHashMap<>();
    shapes.forEach((name, builder) -> requests.put(name, builder.build()));
    // later pages: the token of page 10 (no filter) and page 2 (type), carried as a client would
    requests.put("no filter, page 11", after(requests.get("no filter"), 10));
    requests.put("one type, page 3", after(requests.get("one type"), 2));
    requests.put("outcome failure, page 2", after(requests.get("outcome failure (rare)"), 1));
    return requests;
  }

  private static QueryAuditRequest.Builder page() {
    return QueryAuditRequest.newBuilder().setPageSize(PAGE);
  }

  private QueryAuditRequest after(QueryAuditRequest first, int pages) {
    QueryAuditRequest request = first;
    for (int i = 0; i < pages; i++) {
      QueryAuditResponse response = Futures.getUnchecked(auditor.withDeadlineAfter(30, TimeUnit.SECONDS)
          .queryAudit(request));
      if (response.getNextPageToken().isEmpty()) {
        break;
      }
      request = first.toBuilder().setPageToken(response.getNextPageToken()).build();
    }
    return request;
  }

  /**
   * {@code seedEvents} events evenly over the day after {@code start}: two thirds validations, a
   * third logins, a few refreshes; one failure in 2,000, one alert in 10,000; 5,000 users,
   * 50,000 addresses, 10,000 tokens, 20,000 traces.
   */
  private long seed(long start) {
    try (MongoClient client = MongoClients.create(storeUri)) {
      var events = client.getDatabase(database).getCollection("audit_events");
      long spacing = Math.max(1, DAY_MILLIS / Math.max(1, seedEvents));
      return SeedEvents.insert(events, seedEvents, i -> {
        long time = start + i * spacing;
        String type = i % 10_000 == 5_003 ? "AUDIT_EVENT_TYPE_ALERT" : i % 50 == 1 ? "AUDIT_EVENT_TYPE_TOKEN_REFRESH"
            : i % 3 == 0 ? "AUDIT_EVENT_TYPE_LOGIN" : "AUDIT_EVENT_TYPE_TOKEN_VALIDATE";
        return new Document("_id", SeedEvents.eventId(time))
            .append("time", new Date(time))
            .append("type", type)
            .append("outcome", i % 2_000 == 1_001 ? "AUDIT_OUTCOME_FAILURE" : "AUDIT_OUTCOME_SUCCESS")
            .append("username", "user-" + (i % 5_000))
            .append("client_ip", "10.0." + (i % 50_000) / 250 + "." + (i % 250))
            .append("token_id", "tok-" + (i % 10_000))
            .append("trace_id", traceId(i % 20_000))
            .append("rpc_method", "auth.v1.AuthService/Validate").append("instance", "bench").append("count", 1L);
      });
    }
  }

  /** A W3C trace id (32 lowercase hex digits, not all zeros), as QueryAudit requires. */
  private static String traceId(long n) {
    return String.format("%032x", n + 1);
  }


  private static Timestamp timestamp(long millis) {
    return Timestamp.newBuilder().setSeconds(millis / 1000).setNanos((int) (millis % 1000) * 1_000_000).build();
  }

  /** Keeps {@code concurrency} calls of one request in flight for {@code length}; records latencies if asked. */
  private Histogram drive(QueryAuditRequest request, Duration length, Recorder recorder) throws InterruptedException {
    long end = System.nanoTime() + length.toNanos();
    CountDownLatch done = new CountDownLatch(concurrency);
    AtomicLong errors = new AtomicLong();
    for (int slot = 0; slot < concurrency; slot++) {
      issue(request, end, recorder, errors, done);
    }
    done.await();
    if (errors.get() > 0) {
      System.err.println(errors.get() + " calls failed");
    }
    return recorder == null ? new Histogram(3) : recorder.getIntervalHistogram();
  }

  private void issue(QueryAuditRequest request, long end, Recorder recorder, AtomicLong errors, CountDownLatch done) {
    if (System.nanoTime() >= end) {
      done.countDown();
      return;
    }
    long start = System.nanoTime();
    ListenableFuture<QueryAuditResponse> call = auditor.queryAudit(request);
    Futures.addCallback(call, new FutureCallback<QueryAuditResponse>() {
      @Override
      public void onSuccess(QueryAuditResponse result) {
        if (recorder != null) {
          recorder.recordValue(System.nanoTime() - start);
        }
        issue(request, end, recorder, errors, done);
      }

      @Override
      public void onFailure(Throwable t) {
        errors.incrementAndGet();
        issue(request, end, recorder, errors, done);
      }
    }, MoreExecutors.directExecutor());
  }

  private static void append(Path file, String text) throws Exception {
    if (file.toAbsolutePath().getParent() != null) {
      Files.createDirectories(file.toAbsolutePath().getParent());
    }
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
