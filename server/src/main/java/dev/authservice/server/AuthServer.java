package dev.authservice.server;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.server.audit.AuditChains;
import dev.authservice.server.audit.AuditCheckpointer;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.AuditSigner;
import dev.authservice.server.audit.AuditVerification;
import dev.authservice.server.audit.CheckpointStore;
import dev.authservice.server.review.ReviewSchedule;
import dev.authservice.server.review.SuspiciousActivityReview;
import dev.authservice.server.audit.AuditStore;
import dev.authservice.server.audit.GroupCommitWriter;
import dev.authservice.server.audit.RefusalRollup;
import dev.authservice.server.audit.RetentionSweeper;
import dev.authservice.server.audit.ValidationRollup;
import dev.authservice.server.audit.StoreHealth;
import dev.authservice.server.grpc.GrpcServices;
import dev.authservice.server.grpc.TransportLogs;
import dev.authservice.server.login.LoginService;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.password.PasswordHasher;
import dev.authservice.server.revocation.RevocationList;
import dev.authservice.server.revocation.RevocationStore;
import dev.authservice.server.session.RefreshTokenStore;
import dev.authservice.server.session.Sessions;
import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.throttle.LoginThrottle;
import dev.authservice.server.token.KeyEncryption;
import dev.authservice.server.token.SigningAlgorithm;
import dev.authservice.server.token.SigningKeys;
import dev.authservice.server.token.StartupKeyCheck;
import dev.authservice.server.token.TokenIssuer;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.ValidationService;
import dev.authservice.server.user.UserService;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running auth server: the store, the capabilities built on it, background upkeep, and the
 * gRPC server in front. {@link #start} builds everything; {@link #close} shuts down gracefully,
 * store last.
 */
public final class AuthServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuthServer.class);
  private static final Duration KEY_RELOAD_INTERVAL = Duration.ofSeconds(5);
  private static final Duration HOUSEKEEPING_INTERVAL = Duration.ofMinutes(1);

  private final Server server;
  private final HealthStatusManager health;
  private final List<ScheduledExecutorService> upkeep;
  /** Audit upkeep (checkpoints, retention, rollup flushes): stopped without interrupting a write. */
  private final List<ScheduledExecutorService> auditUpkeep;
  private final Optional<ValidationRollup> rollup;
  private final RefusalRollup refusals;
  private final GroupCommitWriter writer;
  private final AuditCheckpointer checkpointer;
  private final MongoStorage storage;

  private AuthServer(Server server, HealthStatusManager health, List<ScheduledExecutorService> upkeep,
      List<ScheduledExecutorService> auditUpkeep, Optional<ValidationRollup> rollup, RefusalRollup refusals,
      GroupCommitWriter writer,
      AuditCheckpointer checkpointer, MongoStorage storage) {
    this.server = server;
    this.health = health;
    this.upkeep = upkeep;
    this.auditUpkeep = auditUpkeep;
    this.rollup = rollup;
    this.refusals = refusals;
    this.writer = writer;
    this.checkpointer = checkpointer;
    this.storage = storage;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  public static AuthServer start(ServerConfig config) {
    return start(config, Clock.systemUTC());
  }

  public static AuthServer start(ServerConfig config, Clock clock) {
    long started = System.nanoTime();
    TransportLogs.install();
    requireSafeTransport(config);
    MongoStorage storage = StorageBootstrap.open(config.mongoUri(), config.dataDir(), config.database(),
        config.storeTimeout(), "auth-server " + config.instanceId(), config.embeddedStoreUriFile());
    GroupCommitWriter writer = null;
    // two threads: a store probe blocked by an outage must not delay revocation polling
    ScheduledExecutorService upkeep = Executors.newScheduledThreadPool(2, daemon("auth-upkeep"));
    // the trail's own upkeep (rollup flushes, checkpoints, retention) never holds up the rest
    ScheduledExecutorService auditUpkeep = Executors.newSingleThreadScheduledExecutor(daemon("audit-upkeep"));
    ScheduledExecutorService rollupFlushes = Executors.newSingleThreadScheduledExecutor(daemon("audit-rollups"));
    ScheduledExecutorService reviews = Executors.newSingleThreadScheduledExecutor(daemon("review"));
    try {
      KeyEncryption encryption = KeyEncryption.of(config.keys().keyEncryptionKey(), config.keys().insecureDevKeys());
      if (!encryption.hasKek()) {
        log.warn("!!! INSECURE DEV KEYS: signing keys are stored UNENCRYPTED in the store; anyone who can read it"
            + " can mint tokens. Set AUTH_KEY_ENCRYPTION_KEY for anything but a throw-away trial. !!!");
      }
      SigningKeys keys = new SigningKeys(storage.signingKeys(encryption), clock, config.keys().algorithm(),
          config.tokenTtl().plus(config.clockSkew()));
      // audit keys never retire: a checkpoint must verify for as long as the trail is kept
      SigningKeys auditKeys = SigningKeys.neverRetiring(storage.auditSigningKeys(encryption), clock,
          SigningAlgorithm.EdDSA);
      // before any key is used: every stored key must be one this server can trust
      StartupKeyCheck.run(List.of(keys, auditKeys), config.keys().encryptPlaintextKeys());
      keys.loadOrCreate();
      auditKeys.loadOrCreate();

      PasswordHasher hasher = new PasswordHasher(config.hashParams(),
          Math.max(2, Runtime.getRuntime().availableProcessors()));
      UserService users = new UserService(storage.users(), hasher, clock);
      if (config.bootstrapAdminUsername().isPresent()
          && users.bootstrapAdmin(config.bootstrapAdminUsername().get(), config.bootstrapAdminPassword().get())) {
        log.info("created bootstrap admin '{}'", config.bootstrapAdminUsername().get());
      }

      RevocationStore revocationStore = storage.revocations();
      RevocationList revocations = new RevocationList(revocationStore, clock);
      revocations.refresh();
      RefreshTokenStore refreshTokens = storage.refreshTokens();
      Sessions sessions = new Sessions(refreshTokens, revocations, revocationStore, clock,
          config.refreshTokenTtl(), config.sessionMaxLifetime(), config.tokenTtl().plus(config.clockSkew()));
      LoginThrottle throttle = new LoginThrottle(storage.loginFailures(), storage.loginAddressAttempts(),
          config.throttle(), clock);

      AuditStore auditStore = storage.auditEvents();
      CheckpointStore checkpoints = storage.auditCheckpoints();
      AuditSigner auditSigner = new AuditSigner(auditKeys);
      String chain = AuditChains.chainId(config.instanceId(), clock.millis());
      checkpoints.registerChain(chain, config.instanceId(), clock.instant());
      StoreHealth storeHealth = new StoreHealth(storage::ping);
      writer = new GroupCommitWriter(auditStore, StorageBootstrap.auditSpool(config.dataDir()), storeHealth,
          new AuditChains(chain), GroupCommitWriter.Settings.DEFAULTS);
      AuditCheckpointer checkpointer = new AuditCheckpointer(writer, checkpoints, auditStore, auditSigner, clock);
      AuditVerification verification = new AuditVerification(auditStore, checkpoints, auditSigner);
      SuspiciousActivityReview review = new SuspiciousActivityReview(config.review(), auditStore, writer,
          storage.reviewLeases(), clock, config.instanceId());
      RefusalRollup refusals = new RefusalRollup(writer, config.refusalRollupMaxKeys());
      AuditLog audit = new AuditLog(writer, refusals, clock, config.instanceId());
      TokenIssuer issuer = new TokenIssuer(keys, clock, config.issuer(), config.clientId(), config.tokenTtl());
      TokenVerifier verifier = new TokenVerifier(keys, revocations, clock, config.issuer(),
          config.defaultAudience(), config.tokenTtl(), config.clockSkew());
      LoginService logins = new LoginService(users, throttle, sessions, issuer, verifier, revocations, audit,
          config.clockSkew());
      Optional<ValidationRollup> rollup = config.validationAudit() == ValidationAuditMode.ROLLUP
          ? Optional.of(new ValidationRollup(writer)) : Optional.empty();
      ValidationService validation = new ValidationService(verifier, audit, rollup, clock,
          config.validateFailuresPerMinute(), config.validateFailureDelay());
      // counts are flushed on a thread of their own: a long retention sweep must not make them late
      rollup.ifPresent(r -> rollupFlushes.scheduleWithFixedDelay(r::flush, config.rollupFlushInterval().toMillis(),
          config.rollupFlushInterval().toMillis(), TimeUnit.MILLISECONDS));
      rollupFlushes.scheduleWithFixedDelay(() -> refusals.flush(clock.instant()),
          config.rollupFlushInterval().toMillis(), config.rollupFlushInterval().toMillis(), TimeUnit.MILLISECONDS);
      long checkpointEvery = config.auditCheckpointInterval().toMillis();
      auditUpkeep.scheduleWithFixedDelay(checkpointer::periodic, checkpointEvery, checkpointEvery,
          TimeUnit.MILLISECONDS);
      PageTokens pageTokens = new PageTokens(storage.sharedSecret(MongoStorage.PAGE_TOKEN_SECRET));
      GrpcServices grpc = new GrpcServices(new GrpcServices.Parts(users, logins, throttle, validation, verifier,
          keys, audit, auditStore, checkpoints, verification, auditSigner, review, clock, pageTokens,
          config.defaultAudience(),
          config.allowedAudiences(),
          config.trustedProxies(), config.validateRequiresCaller(), storeHealth, config.streams(),
          config.summaryMaxGroups()));

      scheduleUpkeep(upkeep, config, keys, revocations, revocationStore, refreshTokens, throttle, clock);
      // another instance's audit key rotation reaches this one's signing and GetAuditKeys within a reload
      upkeep.scheduleWithFixedDelay(guarded("reload or rotate audit keys",
          () -> auditSigner.refresh(config.keys().auditRotationInterval())),
          KEY_RELOAD_INTERVAL.toMillis(), KEY_RELOAD_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
      upkeep.scheduleWithFixedDelay(storeHealth::probe, 1, 1, TimeUnit.SECONDS);
      config.review().schedule().ifPresent(cron -> new ReviewSchedule(cron, review, reviews, clock).start());
      config.auditRetention().ifPresent(retention -> auditUpkeep.scheduleWithFixedDelay(
          new RetentionSweeper(auditStore, checkpoints, auditSigner, clock, retention), 0,
          config.auditSweepInterval().toMillis(), TimeUnit.MILLISECONDS));

      HealthStatusManager health = new HealthStatusManager();
      NettyServerBuilder builder = NettyServerBuilder
          .forAddress(new InetSocketAddress(config.bindAddress(), config.port()))
          .maxInboundMessageSize(config.maxInboundMessageBytes())
          .maxInboundMetadataSize(16 * 1024)
          // RPCs block while their audit event becomes durable; virtual threads make that wait
          // cost no platform thread, so many calls can share one group commit
          .executor(Executors.newVirtualThreadPerTaskExecutor())
          .addService(health.getHealthService())
          .addService(ProtoReflectionServiceV1.newInstance())
          .addService(legacyReflection());
      if (config.tls().enabled()) {
        builder.sslContext(sslContext(config.tls()));
      }
      for (io.grpc.ServerServiceDefinition service : grpc.services()) {
        builder.addService(service);
      }
      grpc.interceptors().forEach(builder::intercept);
      Server server = builder.build().start();
      setServing(health, true);
      storeHealth.onChange(reachable -> setServing(health, reachable));
      log.info("auth server listening on {}:{} ({}) using {} (instance {}, signing {} key {}, started in {} ms)",
          config.bindAddress(), server.getPort(),
          config.tls().enabled() ? (config.tls().mutual() ? "mutual TLS" : "TLS") : "plaintext",
          storage.description(), config.instanceId(), keys.current().algorithm(), keys.current().kid(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      return new AuthServer(server, health, List.of(upkeep, reviews), List.of(auditUpkeep, rollupFlushes), rollup,
          refusals, writer,
          checkpointer,
          storage);
    } catch (IOException e) {
      upkeep.shutdownNow();
      auditUpkeep.shutdownNow();
      rollupFlushes.shutdownNow();
      reviews.shutdownNow();
      closeQuietly(writer);
      storage.close();
      throw new UncheckedIOException("cannot listen on " + config.bindAddress() + ":" + config.port()
          + " or read the TLS files", e);
    } catch (RuntimeException e) {
      upkeep.shutdownNow();
      auditUpkeep.shutdownNow();
      rollupFlushes.shutdownNow();
      reviews.shutdownNow();
      closeQuietly(writer);
      storage.close();
      throw e;
    }
  }

  /** NOT_SERVING while the store is unreachable: writes that need it would fail. */
  private static void setServing(HealthStatusManager health, boolean serving) {
    ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    for (String service : List.of(AuthServiceGrpc.SERVICE_NAME, UserAdminServiceGrpc.SERVICE_NAME,
        KeyAdminServiceGrpc.SERVICE_NAME, HealthStatusManager.SERVICE_NAME_ALL_SERVICES)) {
      health.setStatus(service, status);
    }
  }

  private static void closeQuietly(GroupCommitWriter writer) {
    if (writer != null) {
      writer.close();
    }
  }

  private static void scheduleUpkeep(ScheduledExecutorService upkeep, ServerConfig config, SigningKeys keys,
      RevocationList revocations, RevocationStore revocationStore, RefreshTokenStore refreshTokens,
      LoginThrottle throttle, Clock clock) {
    long poll = Math.max(10, config.revocationPollInterval().toMillis());
    upkeep.scheduleWithFixedDelay(revocations::refresh, poll, poll, TimeUnit.MILLISECONDS);
    upkeep.scheduleWithFixedDelay(guarded("reload signing keys", keys::reload),
        KEY_RELOAD_INTERVAL.toMillis(), KEY_RELOAD_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    upkeep.scheduleWithFixedDelay(guarded("housekeeping", () -> {
      config.keys().rotationInterval().ifPresent(keys::rotateIfOlderThan);
      revocationStore.deleteExpired(clock.instant());
      refreshTokens.deleteExpired(clock.instant());
      throttle.forgetIdle();
    }), HOUSEKEEPING_INTERVAL.toMillis(), HOUSEKEEPING_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.warn("{} failed: {}", what, e.toString());
      }
    };
  }

  /** Plaintext only on loopback, unless explicitly allowed. */
  private static void requireSafeTransport(ServerConfig config) {
    if (config.tls().enabled()) {
      return;
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(config.bindAddress()).isLoopbackAddress();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot resolve bind address " + config.bindAddress(), e);
    }
    if (loopback) {
      return;
    }
    if (!config.tls().allowPlaintext()) {
      throw new IllegalArgumentException("refusing plaintext on " + config.bindAddress()
          + ": set AUTH_TLS_CERT_FILE and AUTH_TLS_KEY_FILE, or AUTH_ALLOW_PLAINTEXT=true behind a TLS-terminating proxy");
    }
    log.warn("serving PLAINTEXT on non-loopback address {} (AUTH_ALLOW_PLAINTEXT): tokens and passwords cross the network"
        + " unencrypted unless a proxy in front terminates TLS", config.bindAddress());
  }

  private static io.grpc.netty.shaded.io.netty.handler.ssl.SslContext sslContext(TlsSettings tls) throws IOException {
    SslContextBuilder builder = GrpcSslContexts.forServer(tls.certFile().orElseThrow().toFile(),
        tls.keyFile().orElseThrow().toFile());
    if (tls.mutual()) {
      builder.trustManager(tls.clientCaFile().orElseThrow().toFile()).clientAuth(ClientAuth.REQUIRE);
    }
    return builder.build();
  }

  @SuppressWarnings("deprecation")
  private static BindableService legacyReflection() {
    // grpcurl and older tools still ask v1alpha
    return ProtoReflectionService.newInstance();
  }

  public int port() {
    return server.getPort();
  }

  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** Marks the server NOT_SERVING, drains calls for up to 10 s, then closes the store. */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      upkeep.forEach(ScheduledExecutorService::shutdownNow);
      // not interrupted: a checkpoint or flush being written finishes, so the final ones can follow it
      auditUpkeep.forEach(ScheduledExecutorService::shutdown);
      try {
        for (ScheduledExecutorService executor : auditUpkeep) {
          executor.awaitTermination(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      rollup.ifPresent(ValidationRollup::flush);
      refusals.flush(Instant.MAX);
      writer.close();
      try {
        checkpointer.checkpoint(Checkpoint.Kind.SHUTDOWN);
      } catch (RuntimeException e) {
        System.err.println("could not write the shutdown audit checkpoint: " + e);
      }
      storage.close();
    }
  }
}
