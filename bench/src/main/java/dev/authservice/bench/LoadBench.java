package dev.authservice.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import de.mkammerer.argon2.Argon2;
import de.mkammerer.argon2.Argon2Factory;
import dev.authservice.proto.auth.v1.AuditDimension;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.TimeBucket;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;
import org.bson.Document;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Drives a running server over a real channel with a fixed number of calls in flight, for a
 * fixed time after a warm-up, and reports throughput and latency percentiles (HdrHistogram)
 * plus the server's resident memory. One scenario per run; {@code ./dev bench} runs them all.
 */
@Command(name = "load", description = "Throughput and latency of one RPC under a fixed number of calls in flight.")
final class LoadBench implements Callable<Integer> {
  enum Scenario { HEALTH, VALIDATE, VALIDATE_DISTINCT, CHECK, LOGIN, LOGIN_ACCOUNTS, HASH, QUERY_AUDIT, QUERY_SHAPES, SUMMARIZE,
    STREAM, VERIFY, CHAIN_COST,
    /** QUERY_AUDIT's query over the events an earlier QUERY_AUDIT run seeded (a restarted server's). */
    QUERY_AUDIT_STORED }

  @Option(names = "--target", defaultValue = "127.0.0.1:50051") String target;
  @Option(names = "--scenario", required = true, description = "${COMPLETION-CANDIDATES}") Scenario scenario;
  @Option(names = "--label", description = "Row label; default: the scenario.") String label;
  @Option(names = "--concurrency", defaultValue = "64", description = "Calls in flight.") int concurrency;
  @Option(names = "--warmup", defaultValue = "PT5S") Duration warmup;
  @Option(names = "--duration", defaultValue = "PT15S") Duration duration;
  @Option(names = "--admin", defaultValue = "admin") String admin;
  @Option(names = "--admin-password", defaultValue = "${env:AUTH_BOOTSTRAP_ADMIN_PASSWORD}") String adminPassword;
  @Option(names = "--server-pid", defaultValue = "0", description = "Report this process's RSS: its peak while the row is measured.") long serverPid;
  @Option(names = "--store-uri", description = "MongoDB URI of the server's store, to seed and count events.") String storeUri;
  @Option(names = "--store-uri-file", description = "A file holding that URI: the embedded store's embedded-store.uri"
      + " (AUTH_EMBEDDED_STORE_URI_FILE), whose credential must not appear on a command line.") Path storeUriFile;
  @Option(names = "--database", defaultValue = "auth") String database;
  @Option(names = "--seed-events", defaultValue = "0", description = "QUERY_AUDIT: events to have in the store first.") int seedEvents;
  @Option(names = "--distinct-tokens", defaultValue = "200") int distinctTokens;
  @Option(names = "--check-events", description = "VALIDATE, CHECK: afterwards, count the audit events of the token in the store.") boolean checkEvents;
  @Option(names = "--markdown", defaultValue = "target/bench-load.md", description = "Appends the table row here.") Path markdown;
  @Option(names = "--json", defaultValue = "target/bench-load.jsonl", description = "Appends one JSON line here.") Path json;

  @Option(names = "--warm-on", description = "First run the scenario for --client-warmup against this other server, as a"
      + " caller that has been running for a while; then --ready-file, --go-file.") String warmOn;
  @Option(names = "--client-warmup", defaultValue = "PT5S") Duration clientWarmup;
  @Option(names = "--ready-file", description = "With --warm-on: created once this client is warm.") Path readyFile;
  @Option(names = "--go-file", description = "With --warm-on: the run starts once this file exists; its first line is the"
      + " target (host:port), which replaces --target, and a second line, if any, the server's pid (--server-pid).") Path goFile;

  @Override
  public Integer call() throws Exception {
    String givenStoreUri = storeUri;
    if (warmOn != null) {
      warmOnAnotherServer(givenStoreUri);
    }
    // read again after --warm-on's restart: the file names the new store
    storeUri = storeUri(givenStoreUri);
    ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      String rowLabel = label != null ? label : scenario.name().toLowerCase().replace('_', '-');
      Workload workload = workload(channel);
      if (workload == null) {
        return once(channel, rowLabel);
      }
      AtomicLong answered = new AtomicLong();
      run(workload.call(), warmup, null, answered);
      Histogram histogram;
      long peakRssKib;
      try (PeakRss rss = PeakRss.of(serverPid)) {
        histogram = run(workload.call(), duration, new Recorder(3), answered);
        peakRssKib = rss.stop();
      }
      double perSecond = histogram.getTotalCount() / (duration.toNanos() / 1e9);
      String note = workload.note();
      if (checkEvents && workload.tokenId() != null) {
        note = checkNothingLost(workload.tokenId(), answered.get());
      }
      report(rowLabel, histogram, perSecond, note, peakRssKib);
      return 0;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * The scenario against --warm-on, then --ready-file, then waiting for --go-file: a caller whose
   * JVM has long been warm when the server it calls restarts, as in a rolling restart. Without
   * it, a cold-start row would also time the load generator's own JIT on the same two cores.
   */
  private void warmOnAnotherServer(String givenStoreUri) throws Exception {
    storeUri = storeUri(givenStoreUri);
    ManagedChannel channel = NettyChannelBuilder.forTarget(warmOn).usePlaintext().build();
    try {
      Workload workload = workload(channel);
      if (workload == null) {
        throw new IllegalArgumentException("--warm-on needs a scenario of repeated calls, not " + scenario);
      }
      run(workload.call(), clientWarmup, null, new AtomicLong());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (readyFile != null) {
      Files.writeString(readyFile, "warm\n");
    }
    if (goFile != null) {
      long giveUp = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (!Files.exists(goFile)) {   // moved into place whole
        if (System.nanoTime() > giveUp) {
          throw new IllegalStateException("no " + goFile + " within 5 minutes");
        }
        Thread.sleep(5);
      }
      List<String> lines = Files.readAllLines(goFile).stream().map(String::trim).filter(l -> !l.isEmpty()).toList();
      target = lines.get(0);
      if (lines.size() > 1) {
        serverPid = Long.parseLong(lines.get(1));
      }
    }
  }

  /** --store-uri if given, else what --store-uri-file holds now, else none. */
  private String storeUri(String givenStoreUri) throws java.io.IOException {
    return givenStoreUri != null || storeUriFile == null ? givenStoreUri : Files.readString(storeUriFile).trim();
  }

  /** What one scenario of repeated calls calls, and the note its row gets. */
  private record Workload(IntFunction<ListenableFuture<?>> call, String note, String tokenId) {}

  /** The repeated call of this scenario on this channel (after its setup: logins, seeding), or null for a one-shot scenario. */
  private Workload workload(ManagedChannel channel) {
    AuthServiceGrpc.AuthServiceFutureStub auth = AuthServiceGrpc.newFutureStub(channel);
    String note = "";
    String tokenId = null;
    IntFunction<ListenableFuture<?>> call;
    switch (scenario) {
      case HEALTH -> {
        HealthGrpc.HealthFutureStub health = HealthGrpc.newFutureStub(channel);
        call = i -> health.check(HealthCheckRequest.getDefaultInstance());
      }
      case VALIDATE -> {
        LoginResponse login = login(channel);
        tokenId = login.getTokenId();
        ValidateRequest request = ValidateRequest.newBuilder().setToken(login.getAccessToken()).build();
        call = i -> auth.validate(request);
      }
      case CHECK -> {
        // Envoy's ext_authz filter asking about one HTTP request, as Envoy builds the CheckRequest;
        // an answer other than allowed counts as a failed call
        LoginResponse login = login(channel);
        tokenId = login.getTokenId();
        AuthorizationGrpc.AuthorizationFutureStub envoy = AuthorizationGrpc.newFutureStub(channel);
        CheckRequest request = EnvoyCheckRequests.get("/orders/17", login.getAccessToken());
        call = i -> Futures.transform(envoy.check(request), response -> {
          if (response.getStatus().getCode() != 0) {
            throw new IllegalStateException("Check did not allow: " + response.getStatus().getMessage());
          }
          return response;
        }, MoreExecutors.directExecutor());
      }
      case VALIDATE_DISTINCT -> {
        List<ValidateRequest> requests = new ArrayList<>();
        for (int i = 0; i < distinctTokens; i++) {
          requests.add(ValidateRequest.newBuilder().setToken(login(channel).getAccessToken()).build());
        }
        call = i -> auth.validate(requests.get(i % requests.size()));
        note = distinctTokens + " tokens";
      }
      case LOGIN -> {
        LoginRequest request = LoginRequest.newBuilder().setUsername(admin).setPassword(adminPassword).build();
        call = i -> auth.login(request);
      }
      case LOGIN_ACCOUNTS -> {
        call = LoginAccounts.logins(channel, login(channel).getAccessToken(), concurrency);
        note = concurrency + " accounts";
      }
      case QUERY_AUDIT -> {
        String username = "bench-query-" + UUID.randomUUID().toString().substring(0, 6);
        long stored = seed(username);
        AuthServiceGrpc.AuthServiceFutureStub auditor = withBearer(auth, login(channel).getAccessToken());
        QueryAuditRequest request = QueryAuditRequest.newBuilder().setUsername(username)
            .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).setPageSize(100).build();
        call = i -> auditor.queryAudit(request);
        note = "page of 100, " + stored + " events stored";
      }
      case QUERY_AUDIT_STORED -> {
        StoredQuery stored = StoredQuery.find(storeUri, database);
        AuthServiceGrpc.AuthServiceFutureStub auditor = withBearer(auth, login(channel).getAccessToken());
        call = i -> auditor.queryAudit(stored.request());
        note = stored.note();
      }
      case SUMMARIZE -> {
        seed("bench-summary");
        AuthServiceGrpc.AuthServiceFutureStub auditor = withBearer(auth, login(channel).getAccessToken());
        SummarizeAuditRequest request = SummarizeAuditRequest.newBuilder()
            .setStartTime(timestamp(seedStart)).setEndTime(timestamp(seedStart + DAY_MILLIS))
            .addGroupBy(AuditDimension.AUDIT_DIMENSION_TYPE).addGroupBy(AuditDimension.AUDIT_DIMENSION_OUTCOME)
            .setBucket(TimeBucket.TIME_BUCKET_HOUR).build();
        call = i -> auditor.summarizeAudit(request);
        note = "a day of hourly buckets by type and outcome, " + eventsStored() + " events stored";
      }
      case QUERY_SHAPES, STREAM, VERIFY, HASH, CHAIN_COST -> {
        return null;
      }
      default -> throw new IllegalStateException();
    }
    return new Workload(call, note, tokenId);
  }

  /** A scenario that measures one thing once (or has rows of its own) rather than repeated calls. */
  private int once(ManagedChannel channel, String rowLabel) throws Exception {
    AuthServiceGrpc.AuthServiceFutureStub auth = AuthServiceGrpc.newFutureStub(channel);
    return switch (scenario) {
      // one row per filter shape; half the duration each, so that twenty shapes take minutes, not ten
      case QUERY_SHAPES -> new QueryShapesBench(withBearer(auth, login(channel).getAccessToken()), storeUri, database,
          seedEvents, concurrency, warmup, duration.dividedBy(2), markdown).run();
      case STREAM -> stream(rowLabel, login(channel).getAccessToken());
      case VERIFY -> verify(rowLabel, login(channel).getAccessToken());
      case HASH -> hash(rowLabel);
      case CHAIN_COST -> chainCost(rowLabel);
      default -> throw new IllegalStateException(scenario + " is a scenario of repeated calls");
    };
  }

  private LoginResponse login(ManagedChannel channel) {
    return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .login(LoginRequest.newBuilder().setUsername(admin).setPassword(adminPassword).build());
  }

  private static AuthServiceGrpc.AuthServiceFutureStub withBearer(AuthServiceGrpc.AuthServiceFutureStub stub, String token) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Keeps {@code concurrency} calls in flight until the time is up; records latencies if asked. */
  private Histogram run(IntFunction<ListenableFuture<?>> call, Duration length, Recorder recorder, AtomicLong answered)
      throws InterruptedException {
    long end = System.nanoTime() + length.toNanos();
    CountDownLatch slotsDone = new CountDownLatch(concurrency);
    AtomicLong sequence = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    for (int slot = 0; slot < concurrency; slot++) {
      issue(call, end, recorder, answered, errors, sequence, slotsDone);
    }
    slotsDone.await();
    if (errors.get() > 0) {
      System.err.println(errors.get() + " calls failed");
    }
    return recorder == null ? new Histogram(3) : recorder.getIntervalHistogram();
  }

  private void issue(IntFunction<ListenableFuture<?>> call, long end, Recorder recorder, AtomicLong answered,
      AtomicLong errors, AtomicLong sequence, CountDownLatch slotsDone) {
    if (System.nanoTime() >= end) {
      slotsDone.countDown();
      return;
    }
    long start = System.nanoTime();
    Futures.addCallback(call.apply((int) sequence.getAndIncrement()), new FutureCallback<Object>() {
      @Override
      public void onSuccess(Object result) {
        if (recorder != null) {
          recorder.recordValue(System.nanoTime() - start);
        }
        answered.incrementAndGet();
        issue(call, end, recorder, answered, errors, sequence, slotsDone);
      }

      @Override
      public void onFailure(Throwable t) {
        errors.incrementAndGet();
        issue(call, end, recorder, answered, errors, sequence, slotsDone);
      }
    }, MoreExecutors.directExecutor());
  }

  private static final long DAY_MILLIS = 86_400_000L;
  @Option(names = "--seed-days-ago", defaultValue = "2", description = "Seeded events lie in the day that began this many days ago.")
  int seedDaysAgo;
  /** Seeded events lie in the day after this instant (an hour boundary). */
  private long seedStart;

  private long eventsStored() {
    try (MongoClient client = MongoClients.create(storeUri)) {
      return client.getDatabase(database).getCollection("audit_events").estimatedDocumentCount();
    }
  }

  /** Adds --seed-events events spread evenly over one day, 2% of them by {@code username}. */
  private long seed(String username) {
    if (storeUri == null) {
      throw new IllegalArgumentException(scenario + " needs --store-uri to seed events");
    }
    seedStart = (System.currentTimeMillis() - seedDaysAgo * DAY_MILLIS) / 3_600_000L * 3_600_000L;
    try (MongoClient client = MongoClients.create(storeUri)) {
      var events = client.getDatabase(database).getCollection("audit_events");
      long spacing = Math.max(1, DAY_MILLIS / Math.max(1, seedEvents));
      return SeedEvents.insert(events, seedEvents, i -> {
        boolean mine = i % 50 == 0;
        long time = seedStart + i * spacing;
        return new Document("_id", SeedEvents.eventId(time))
            .append("time", new Date(time))
            .append("type", i % 3 == 0 ? "AUDIT_EVENT_TYPE_LOGIN" : "AUDIT_EVENT_TYPE_TOKEN_VALIDATE")
            .append("outcome", i % 7 == 0 ? "AUDIT_OUTCOME_FAILURE" : "AUDIT_OUTCOME_SUCCESS")
            .append("username", mine ? username : "user-" + (i % 5000))
            .append("client_ip", "10.0." + (i % 200) + "." + (i % 250))
            .append("rpc_method", "auth.v1.AuthService/Login").append("instance", "bench").append("count", 1L);
      });
    }
  }


  private static com.google.protobuf.Timestamp timestamp(long millis) {
    return com.google.protobuf.Timestamp.newBuilder().setSeconds(millis / 1000).setNanos((int) (millis % 1000) * 1_000_000)
        .build();
  }

  /** StreamAudit of every chained event in the store to this reader, once: events per second. */
  private int stream(String rowLabel, String token) throws Exception {
    try (dev.authservice.client.AuthClient client = dev.authservice.client.AuthClient.builder().target(target)
        .plaintext().bearerToken(token).build()) {
      long start = System.nanoTime();
      long n;
      long peakRssKib;
      try (PeakRss rss = PeakRss.of(serverPid);
          var events = client.streamAudit(dev.authservice.proto.auth.v1.StreamAuditRequest.getDefaultInstance())) {
        n = events.count();
        peakRssKib = rss.stop();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      report(rowLabel, new Histogram(3), n / seconds, n + " chained events streamed in " + String.format("%.1f", seconds)
          + " s", peakRssKib);
      return 0;
    }
  }

  /**
   * VerifyAudit over a trail of --seed-events chained events: a chain the bench writes straight
   * into the store, hashed as the server would hash it and registered as a server run registers
   * its chain, plus whatever the server wrote. Timed once the server's checkpoint names the
   * seeded chain's head, as it would a real run's: an older chain no checkpoint names is
   * reported as not vouched for.
   */
  private int verify(String rowLabel, String token) throws Exception {
    String chain = "bench-seed:" + System.currentTimeMillis();
    long seeded = seedChain(chain);
    try (dev.authservice.client.AuthClient client = dev.authservice.client.AuthClient.builder().target(target)
        .plaintext().bearerToken(token).deadline(Duration.ofMinutes(10)).build()) {
      awaitCheckpointNaming(client, token, chain, seeded);
      long start = System.nanoTime();
      dev.authservice.proto.auth.v1.VerifyAuditResponse answer;
      long peakRssKib;
      try (PeakRss rss = PeakRss.of(serverPid)) {
        answer = client.verifyAudit(dev.authservice.proto.auth.v1.VerifyAuditRequest.getDefaultInstance());
        peakRssKib = rss.stop();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Histogram h = new Histogram(3);
      h.recordValue((long) (seconds * 1e9));
      report(rowLabel, h, answer.getEventsVerified() / seconds, answer.getEventsVerified() + " events ("
          + seeded + " seeded) verified in " + String.format("%.1f", seconds) + " s, ok=" + answer.getOk(), peakRssKib);
      return 0;
    }
  }

  private long seedChain(String chain) {
    try (MongoClient client = MongoClients.create(storeUri)) {
      var events = client.getDatabase(database).getCollection("audit_events");
      client.getDatabase(database).getCollection("audit_chains").insertOne(new Document("_id", chain)
          .append("instance", "bench").append("started_at", new Date(System.currentTimeMillis() - DAY_MILLIS)));
      String prev = dev.authservice.integrity.Hashes.ZERO;
      long time = System.currentTimeMillis() - DAY_MILLIS;
      List<Document> batch = new ArrayList<>();
      for (long seq = 1; seq <= seedEvents; seq++) {
        String id = SeedEvents.eventId(time + seq);
        dev.authservice.integrity.ChainedEvent e = new dev.authservice.integrity.ChainedEvent(id, time + seq,
            "AUDIT_EVENT_TYPE_TOKEN_VALIDATE", "AUDIT_OUTCOME_SUCCESS", "user-" + (seq % 5000), "", "tok-" + (seq % 997),
            "10.0." + (seq % 200) + "." + (seq % 250), "", "auth.v1.AuthService/Validate", "", "bench", "", "", 1,
            time + seq, time + seq, java.util.Optional.empty(), chain, seq, prev, "");
        String hash = dev.authservice.integrity.Hashes.of(e);
        batch.add(new Document("_id", id).append("time", new Date(time + seq)).append("type", e.type())
            .append("outcome", e.outcome()).append("username", e.username()).append("token_id", e.tokenId())
            .append("client_ip", e.clientIp()).append("rpc_method", e.rpcMethod()).append("instance", e.instance())
            .append("count", 1L).append("chain", chain).append("seq", seq).append("prev_hash", prev).append("hash", hash));
        prev = hash;
        if (batch.size() == 5000) {
          events.insertMany(batch);
          batch.clear();
        }
      }
      if (!batch.isEmpty()) {
        events.insertMany(batch);
      }
      return seedEvents;
    }
  }

  /** Waits (a minute at most) for a server checkpoint naming the seeded chain at its head; each try records an event. */
  private void awaitCheckpointNaming(dev.authservice.client.AuthClient auth, String token, String chain, long head)
      throws InterruptedException {
    try (MongoClient client = MongoClients.create(storeUri)) {
      var checkpoints = client.getDatabase(database).getCollection("audit_checkpoints");
      for (int i = 0; i < 120; i++) {
        if (checkpoints.find(Filters.elemMatch("heads", Filters.and(Filters.eq("chain", chain),
            Filters.eq("seq", head)))).first() != null) {
          return;
        }
        auth.validate(token, "");
        Thread.sleep(500);
      }
    }
  }

  private String checkNothingLost(String tokenId, long answered) throws InterruptedException {
    try (MongoClient client = MongoClients.create(storeUri)) {
      var events = client.getDatabase(database).getCollection("audit_events");
      long counted = 0;
      for (int i = 0; i < 100; i++) {
        // summed in the store: fetching tens of thousands of documents would only measure memory
        Document sum = events.aggregate(List.of(
            new Document("$match", new Document("token_id", tokenId).append("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE")),
            new Document("$group", new Document("_id", null).append("n", new Document("$sum",
                new Document("$ifNull", List.of("$count", 1L))))))).first();
        counted = sum == null ? 0 : ((Number) sum.get("n")).longValue();
        if (counted >= answered) {
          break;
        }
        Thread.sleep(200);
      }
      return (counted == answered ? "nothing lost: " : "MISMATCH: ") + counted + " events counted for "
          + answered + " answered";
    }
  }

  /**
   * What chaining adds per event, on the writer thread: the canonical encoding and SHA-256 of a
   * typical Validate event. Against the Validate rate in audit mode every, the share of one core
   * it takes is the most it can cost that rate.
   */
  private int chainCost(String rowLabel) throws Exception {
    String prev = dev.authservice.integrity.Hashes.ZERO;
    Histogram h = new Histogram(3);
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      dev.authservice.integrity.ChainedEvent e = new dev.authservice.integrity.ChainedEvent(
          "0193a6e4-2f1c-7abc-8def-" + String.format("%012d", i), 1_780_000_000_000L + i, "AUDIT_EVENT_TYPE_TOKEN_VALIDATE",
          "AUDIT_OUTCOME_SUCCESS", "admin", "7c1f0e5a-0000-4000-8000-000000000001", "3f1e2d3c-4b5a-6978-8a9b-abcdefabcdef",
          "127.0.0.1", "grpc-java-netty/1.85.1", "auth.v1.AuthService/Validate", "", "vm-1234", "", "", 1,
          1_780_000_000_000L + i, 1_780_000_000_000L + i, java.util.Optional.empty(), "vm-1234:1780000000000", i + 1,
          prev, "");
      prev = dev.authservice.integrity.Hashes.of(e);
      if (i > n / 2) {
        h.recordValue(System.nanoTime() - start);
      }
    }
    double micros = h.getMean() / 1000;
    report(rowLabel, h, 1e6 / micros, String.format("%.1f µs per event: %.1f%% of one core at 5,000 events/s", micros,
        micros * 5000 / 1e4));
    return 0;
  }

  /**
   * One hash at a time gives the issue's hash-bound limit (cores / single-hash time); the same
   * hashes on every core at once show what the machine really does when logins overlap: Argon2id
   * is memory-hard, and cores that share a cache and memory bus do not each hash at full speed.
   */
  private int hash(String rowLabel) throws Exception {
    Argon2 argon2 = Argon2Factory.create(Argon2Factory.Argon2Types.ARGON2id);
    char[] password = "bench-password-1".toCharArray();
    for (int i = 0; i < 10; i++) {
      argon2.hash(2, 19456, 1, password);
    }
    Histogram h = new Histogram(3);
    int n = 60;
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      argon2.hash(2, 19456, 1, password);
      h.recordValue(System.nanoTime() - start);
    }
    int cores = Runtime.getRuntime().availableProcessors();
    double limit = cores / (h.getMean() / 1e9);
    report(rowLabel, 1, h, limit, "hash-bound login limit: " + cores + " cores / " + String.format("%.1f", h.getMean() / 1e6) + " ms");

    Histogram together = new Histogram(3);
    ExecutorService hashing = Executors.newFixedThreadPool(cores);
    try {
      List<Future<?>> running = new ArrayList<>();
      long start = System.nanoTime();
      for (int i = 0; i < n * cores; i++) {
        running.add(hashing.submit(() -> {
          long one = System.nanoTime();
          argon2.hash(2, 19456, 1, password);
          synchronized (together) {
            together.recordValue(System.nanoTime() - one);
          }
        }));
      }
      for (Future<?> f : running) {
        f.get();
      }
      double perSecond = n * cores / ((System.nanoTime() - start) / 1e9);
      report(rowLabel + ", " + cores + " at once", cores, together, perSecond,
          String.format("what %d cores hash together: %.0f%% of the hash-bound limit", cores, 100 * perSecond / limit));
    } finally {
      hashing.shutdownNow();
    }
    return 0;
  }

  private void report(String rowLabel, Histogram h, double perSecond, String note) throws Exception {
    report(rowLabel, h, perSecond, note, PeakRss.rssKib(serverPid));
  }

  /** {@code rssKib}: the server's RSS for the row, the peak while it was measured where there was a load. */
  private void report(String rowLabel, Histogram h, double perSecond, String note, long rssKib) throws Exception {
    report(rowLabel, Set.of(Scenario.HASH, Scenario.STREAM, Scenario.VERIFY, Scenario.CHAIN_COST).contains(scenario) ? 1 : concurrency,
        h, perSecond, note, rssKib);
  }

  private void report(String rowLabel, int inFlight, Histogram h, double perSecond, String note) throws Exception {
    report(rowLabel, inFlight, h, perSecond, note, PeakRss.rssKib(serverPid));
  }

  private void report(String rowLabel, int inFlight, Histogram h, double perSecond, String note, long rssKib)
      throws Exception {
    String row = String.format("| %s | %d | %.0f | %.2f | %.2f | %.2f | %s | %s |%n", rowLabel, inFlight,
        perSecond, h.getValueAtPercentile(50) / 1e6,
        h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6,
        rssKib > 0 ? Long.toString(rssKib / 1024) : "-", note);
    System.out.print(row);
    append(markdown, row);
    append(json, String.format("{\"label\":\"%s\",\"scenario\":\"%s\",\"concurrency\":%d,\"per_second\":%.1f,"
            + "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"server_rss_mib\":%d,\"note\":\"%s\"}%n",
        rowLabel, scenario, inFlight, perSecond, h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
        h.getValueAtPercentile(99.9) / 1e6, rssKib / 1024, note.replace("\"", "'")));
  }

  private static void append(Path file, String text) throws Exception {
    if (file.toAbsolutePath().getParent() != null) {
      Files.createDirectories(file.toAbsolutePath().getParent());
    }
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
