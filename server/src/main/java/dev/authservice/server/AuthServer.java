package dev.authservice.server;

import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running auth server, put together from a few assemblies: the store, the keys, the audit
 * trail, the capabilities and use cases, the background threads, and the gRPC transport in
 * front. {@link #start} builds them in that order; {@link #close} shuts down gracefully in the
 * reverse one, store last.
 */
public final class AuthServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuthServer.class);

  private final Transport transport;
  private final HttpListeners http;
  private final Observability observability;
  private final Background background;
  private final AuditAssembly audit;
  private final MongoStorage storage;

  private AuthServer(Transport transport, HttpListeners http, Observability observability, Background background,
      AuditAssembly audit, MongoStorage storage) {
    this.transport = transport;
    this.http = http;
    this.observability = observability;
    this.background = background;
    this.audit = audit;
    this.storage = storage;
  }

  public static AuthServer start(ServerConfig config) {
    return start(config, Clock.systemUTC());
  }

  public static AuthServer start(ServerConfig config, Clock clock) {
    return start(config, clock, KeyAssembly.OWN_THREAD);
  }

  /** As {@link #start(ServerConfig, Clock)}, with the token keys loaded (or made) on {@code tokenKeyLoading}. */
  static AuthServer start(ServerConfig config, Clock clock, java.util.concurrent.Executor tokenKeyLoading) {
    StartupPhases phases = new StartupPhases();
    Transport.prepare(config);
    HttpListeners.prepare(config);
    MongoStorage storage = phases.time("store", () -> StorageBootstrap.open(config.mongoUri(), config.dataDir(),
        config.database(), config.storeTimeout(), "auth-server " + config.instanceId(), config.embeddedStoreUriFile()));
    Background background = new Background();
    Observability observability = phases.time("telemetry", () -> Observability.open(config));
    AuditAssembly audit = null;
    Transport transport = null;
    KeyAssembly keys = null;
    try {
      KeyAssembly openedKeys = phases.time("key check and audit keys", () -> KeyAssembly.open(storage, config, clock,
          tokenKeyLoading));
      keys = openedKeys;
      audit = phases.time("audit trail", () -> AuditAssembly.open(storage, config, openedKeys, clock,
          observability.metrics));
      AuditAssembly openedAudit = audit;
      CapabilityAssembly capabilities = phases.time("capabilities", () -> CapabilityAssembly.build(storage, config,
          openedKeys, openedAudit, clock, observability.metrics));
      observability.metrics.observe(audit.gauges());
      audit.schedule(background, config);
      capabilities.schedule(background, config);
      // the token keys loaded beside the assemblies above; nothing listens before they are there
      long tokenKeysNanos = keys.awaitTokenKeys();
      phases.lap("waiting for the token keys");
      phases.record("token keys, beside the assemblies", tokenKeysNanos);
      keys.schedule(background, config);
      transport = phases.time("gRPC transport", () -> Transport.start(config, capabilities.useCases,
          new PageTokens(storage.sharedSecret(MongoStorage.PAGE_TOKEN_SECRET)), openedAudit.health, observability,
          clock));
      HttpListeners http = phases.time("HTTP listeners", () -> HttpListeners.start(config, openedKeys, observability,
          () -> openedAudit.health.reachable() && capabilities.revocationsLoaded()));
      log.info("auth server listening on {}:{} ({}; HTTP {}, admin {}) using {} (instance {}, signing {} key {},"
          + " started in {} ms, {} ms after the JVM's launch: {})", config.bindAddress(), transport.port(),
          config.tls().enabled() ? (config.tls().mutual() ? "mutual TLS" : "TLS") : "plaintext",
          describe(config.http().publicBindAddress(), http.publicPort()),
          describe(config.http().adminBindAddress(), http.adminPort()),
          storage.description(), config.instanceId(), keys.tokenKeys().current().algorithm(),
          keys.tokenKeys().current().kid(), phases.elapsedMillis(), StartupPhases.sinceProcessStartMillis(),
          phases.summary());
      return new AuthServer(transport, http, observability, background, audit, storage);
    } catch (RuntimeException | Error e) {
      if (transport != null) {
        transport.close();
      }
      background.close();
      if (keys != null) {
        // the store closes below: let the key thread finish with it first (its own failure is not this one)
        keys.tokenKeysLoaded().exceptionally(failure -> 0L).join();
      }
      if (audit != null) {
        audit.closeWriter();
      }
      storage.close();
      observability.close();
      throw e;
    }
  }

  private static String describe(String address, java.util.OptionalInt port) {
    return port.isPresent() ? address + ":" + port.getAsInt() : "off";
  }

  public int port() {
    return transport.port();
  }

  /** The public HTTP listener's port (JWK Set, metadata), if it is on. */
  public java.util.OptionalInt httpPort() {
    return http.publicPort();
  }

  /** The admin HTTP listener's port (metrics, health), if it is on. */
  public java.util.OptionalInt adminPort() {
    return http.adminPort();
  }

  public void awaitTermination() throws InterruptedException {
    transport.awaitTermination();
  }

  /** Drains calls for up to 10 s, stops the background, writes the trail's last words, then closes the store. */
  @Override
  public void close() {
    http.stopping();
    try {
      transport.close();
    } finally {
      http.close();
      background.close();
      audit.close();
      storage.close();
      observability.close();
    }
  }
}
