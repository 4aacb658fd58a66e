package dev.authservice.server;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.AuditStore;
import dev.authservice.server.grpc.GrpcServices;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.password.PasswordHasher;
import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.token.SigningKeys;
import dev.authservice.server.token.TokenIssuer;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.user.UserService;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running auth server: the store, the capabilities built on it, and the gRPC server in front.
 * {@link #start} builds everything; {@link #close} shuts down gracefully, store last.
 */
public final class AuthServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuthServer.class);

  private final Server server;
  private final HealthStatusManager health;
  private final MongoStorage storage;

  private AuthServer(Server server, HealthStatusManager health, MongoStorage storage) {
    this.server = server;
    this.health = health;
    this.storage = storage;
  }

  public static AuthServer start(ServerConfig config) {
    return start(config, Clock.systemUTC());
  }

  public static AuthServer start(ServerConfig config, Clock clock) {
    long started = System.nanoTime();
    MongoStorage storage = MongoStorage.open(config.mongoUri(), config.dataDir(), config.database(),
        config.storeTimeout(), "auth-server " + config.instanceId());
    try {
      PasswordHasher hasher = new PasswordHasher(config.hashParams(),
          Math.max(2, Runtime.getRuntime().availableProcessors()));
      UserService users = new UserService(storage.users(), hasher, clock);
      if (config.bootstrapAdminUsername().isPresent()
          && users.bootstrapAdmin(config.bootstrapAdminUsername().get(), config.bootstrapAdminPassword().get())) {
        log.info("created bootstrap admin '{}'", config.bootstrapAdminUsername().get());
      }
      SigningKeys keys = new SigningKeys(storage.signingKeys(), clock);
      keys.loadOrCreate();
      AuditStore auditStore = storage.auditEvents();
      AuditLog audit = new AuditLog(auditStore, clock, config.instanceId());
      TokenIssuer issuer = new TokenIssuer(keys, clock, config.issuer(), config.clientId(), config.tokenTtl());
      TokenVerifier verifier = new TokenVerifier(keys, clock, config.issuer(), config.defaultAudience(),
          config.clockSkew());
      PageTokens pageTokens = new PageTokens(storage.sharedSecret(MongoStorage.PAGE_TOKEN_SECRET));
      GrpcServices grpc = new GrpcServices(users, issuer, verifier, audit, auditStore, pageTokens,
          config.defaultAudience(), config.allowedAudiences(), config.trustedProxies());

      HealthStatusManager health = new HealthStatusManager();
      NettyServerBuilder builder = NettyServerBuilder
          .forAddress(new InetSocketAddress(config.bindAddress(), config.port()))
          .maxInboundMessageSize(config.maxInboundMessageBytes())
          .maxInboundMetadataSize(16 * 1024)
          .intercept(grpc.interceptor())
          .addService(health.getHealthService())
          .addService(ProtoReflectionServiceV1.newInstance())
          .addService(legacyReflection());
      for (BindableService service : grpc.services()) {
        builder.addService(service);
      }
      Server server = builder.build().start();
      health.setStatus(AuthServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(UserAdminServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
      log.info("auth server listening on {}:{} using {} (instance {}, started in {} ms)",
          config.bindAddress(), server.getPort(), storage.description(), config.instanceId(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      return new AuthServer(server, health, storage);
    } catch (IOException e) {
      storage.close();
      throw new UncheckedIOException("cannot listen on " + config.bindAddress() + ":" + config.port(), e);
    } catch (RuntimeException e) {
      storage.close();
      throw e;
    }
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
      storage.close();
    }
  }
}
