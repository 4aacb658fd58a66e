package dev.authservice.server;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.audit.write.StoreHealth;
import dev.authservice.server.grpc.GrpcServices;
import dev.authservice.server.grpc.TransportLogs;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.usecase.UseCases;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The gRPC server in front: TLS, the services and their interceptors, health and reflection. */
final class Transport implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Transport.class);
  private static final int MAX_METADATA_BYTES = 16 * 1024;

  private final Server server;
  private final HealthStatusManager health;

  private Transport(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  /** Before anything else starts: plaintext only on loopback unless explicitly allowed; one-line client-error logs. */
  static void prepare(ServerConfig config) {
    TransportLogs.install();
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

  /** Listens, SERVING while the store answers. */
  static Transport start(ServerConfig config, UseCases useCases, PageTokens pageTokens, StoreHealth storeHealth,
      Observability observability, Clock clock) {
    GrpcServices grpc = new GrpcServices(useCases, pageTokens, storeHealth,
        new GrpcServices.EdgeSettings(config.trustedProxies(), config.validateRequiresCaller(),
            config.extAuthz().checkHeaders(config.issuer())), clock);
    HealthStatusManager health = new HealthStatusManager();
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(config.bindAddress(), config.port()))
        .maxInboundMessageSize(config.maxInboundMessageBytes())
        .maxInboundMetadataSize(MAX_METADATA_BYTES)
        // RPCs block while their audit event becomes durable; virtual threads make that wait
        // cost no platform thread, so many calls can share one group commit
        .executor(Executors.newVirtualThreadPerTaskExecutor())
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .addService(legacyReflection());
    observability.instrument(builder);
    try {
      if (config.tls().enabled()) {
        builder.sslContext(sslContext(config.tls()));
      }
      for (ServerServiceDefinition service : grpc.services()) {
        builder.addService(service);
      }
      grpc.interceptors().forEach(builder::intercept);
      Server server = builder.build().start();
      setServing(health, true);
      // Check answers from memory, as Validate does, so a store outage does not take it out of an
      // Envoy cluster that health-checks it by this name; only shutting down does
      health.setStatus(AuthorizationGrpc.SERVICE_NAME, ServingStatus.SERVING);
      storeHealth.onChange(reachable -> setServing(health, reachable));
      return new Transport(server, health);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + config.bindAddress() + ":" + config.port()
          + " or read the TLS files", e);
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

  private static SslContext sslContext(TlsSettings tls) throws IOException {
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

  int port() {
    return server.getPort();
  }

  void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /** Marks everything NOT_SERVING and drains calls for up to 10 s. */
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
    }
  }
}
