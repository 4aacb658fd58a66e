package dev.authservice.server;

import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
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
  private final Background background;
  private final AuditAssembly audit;
  private final MongoStorage storage;

  private AuthServer(Transport transport, Background background, AuditAssembly audit, MongoStorage storage) {
    this.transport = transport;
    this.background = background;
    this.audit = audit;
    this.storage = storage;
  }

  public static AuthServer start(ServerConfig config) {
    return start(config, Clock.systemUTC());
  }

  public static AuthServer start(ServerConfig config, Clock clock) {
    long started = System.nanoTime();
    Transport.prepare(config);
    MongoStorage storage = StorageBootstrap.open(config.mongoUri(), config.dataDir(), config.database(),
        config.storeTimeout(), "auth-server " + config.instanceId(), config.embeddedStoreUriFile());
    Background background = new Background();
    AuditAssembly audit = null;
    try {
      KeyAssembly keys = KeyAssembly.open(storage, config, clock);
      audit = AuditAssembly.open(storage, config, keys, clock);
      CapabilityAssembly capabilities = CapabilityAssembly.build(storage, config, keys, audit, clock);
      keys.schedule(background, config);
      audit.schedule(background, config);
      capabilities.schedule(background, config);
      Transport transport = Transport.start(config, capabilities.useCases,
          new PageTokens(storage.sharedSecret(MongoStorage.PAGE_TOKEN_SECRET)), audit.health, clock);
      log.info("auth server listening on {}:{} ({}) using {} (instance {}, signing {} key {}, started in {} ms)",
          config.bindAddress(), transport.port(),
          config.tls().enabled() ? (config.tls().mutual() ? "mutual TLS" : "TLS") : "plaintext",
          storage.description(), config.instanceId(), keys.tokenKeys().current().algorithm(),
          keys.tokenKeys().current().kid(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      return new AuthServer(transport, background, audit, storage);
    } catch (RuntimeException e) {
      background.close();
      if (audit != null) {
        audit.writer.close();
      }
      storage.close();
      throw e;
    }
  }

  public int port() {
    return transport.port();
  }

  public void awaitTermination() throws InterruptedException {
    transport.awaitTermination();
  }

  /** Drains calls for up to 10 s, stops the background, writes the trail's last words, then closes the store. */
  @Override
  public void close() {
    try {
      transport.close();
    } finally {
      background.close();
      audit.close();
      storage.close();
    }
  }
}
