package dev.authservice.server;

import dev.authservice.server.http.AdminEndpoints;
import dev.authservice.server.http.DiscoveryEndpoints;
import dev.authservice.server.http.HttpListener;
import dev.authservice.server.keys.JwkSet;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public HTTP listener (JWK Set, issuer metadata) and the admin one (metrics, health), each
 * when its port is set. The public one follows the gRPC port's transport rule: TLS with the
 * same certificate when one is configured; plaintext only on loopback unless
 * AUTH_ALLOW_PLAINTEXT (behind a TLS-terminating proxy). A verifier that fetched keys over an
 * unprotected network would trust whatever keys an attacker on the path sent.
 */
final class HttpListeners implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpListeners.class);

  private final Optional<HttpListener> publicListener;
  private final Optional<HttpListener> admin;
  private volatile boolean stopping;

  private HttpListeners(Optional<HttpListener> publicListener, Optional<HttpListener> admin) {
    this.publicListener = publicListener;
    this.admin = admin;
  }

  /** Before anything starts: the public listener's plaintext rule. */
  static void prepare(ServerConfig config) {
    HttpSettings http = config.http();
    if (http.publicPort().isEmpty() || config.tls().enabled() || loopback(http.publicBindAddress())) {
      return;
    }
    if (!config.tls().allowPlaintext()) {
      throw new IllegalArgumentException("refusing plaintext HTTP on " + http.publicBindAddress()
          + " (AUTH_HTTP_BIND_ADDRESS): verifiers would take keys from anyone on the path; set AUTH_TLS_CERT_FILE"
          + " and AUTH_TLS_KEY_FILE, or AUTH_ALLOW_PLAINTEXT=true behind a TLS-terminating proxy");
    }
  }

  /** {@code ready}: whether the instance can serve (its store answers, it can check tokens). */
  static HttpListeners start(ServerConfig config, KeyAssembly keys, Observability observability,
      java.util.function.BooleanSupplier ready) {
    HttpSettings http = config.http();
    HttpListener.Limits limits = new HttpListener.Limits(http.threads(), http.queue(), http.requestTimeout());
    Optional<HttpListener> publicListener = Optional.empty();
    Optional<HttpListener> admin = Optional.empty();
    HttpListeners listeners = null;
    try {
      if (http.publicPort().isPresent()) {
        boolean tls = config.tls().enabled();
        publicListener = Optional.of(HttpListener.start("http-public",
            new InetSocketAddress(http.publicBindAddress(), http.publicPort().getAsInt()),
            tls ? Optional.of(PemTls.serverContext(config.tls())) : Optional.empty(), limits, port -> {
              URI base = http.publicBaseUrl().orElseGet(() -> derivedBase(http.publicBindAddress(), port, tls));
              DiscoveryEndpoints discovery = new DiscoveryEndpoints(new JwkSet(keys.tokenKeys()), keys.tokenKeys(),
                  config.issuer(), base, http.jwksMaxAge());
              log.info("serving the JWK Set at {} (issuer {})", discovery.jwksUri(), config.issuer());
              return discovery.routes();
            }));
      }
      HttpListeners[] self = new HttpListeners[1];
      if (http.adminPort().isPresent()) {
        admin = Optional.of(HttpListener.start("http-admin",
            new InetSocketAddress(http.adminBindAddress(), http.adminPort().getAsInt()), Optional.empty(), limits,
            port -> AdminEndpoints.routes(observability.prometheus,
                () -> ready.getAsBoolean() && !self[0].stopping)));
        if (!loopback(http.adminBindAddress())) {
          log.info("admin listener (metrics, health; no authentication) on {}: keep it reachable by the monitoring"
              + " system and the kubelet only", http.adminBindAddress());
        }
      }
      listeners = new HttpListeners(publicListener, admin);
      self[0] = listeners;
      return listeners;
    } catch (RuntimeException e) {
      publicListener.ifPresent(HttpListener::close);
      admin.ifPresent(HttpListener::close);
      throw e;
    }
  }

  /** The base URL when none is configured: scheme, bind address (the host name for a wildcard) and port. */
  static URI derivedBase(String bindAddress, int port, boolean tls) {
    String host = bindAddress;
    try {
      InetAddress address = InetAddress.getByName(bindAddress);
      if (address.isAnyLocalAddress()) {
        host = InetAddress.getLocalHost().getHostName();
        log.warn("AUTH_PUBLIC_BASE_URL is unset and the public HTTP listener binds every address: jwks_uri uses the"
            + " host name {}; set AUTH_PUBLIC_BASE_URL to the URL clients use", host);
      }
    } catch (IOException e) {
      // keep the configured text
    }
    if (host.contains(":") && !host.startsWith("[")) {
      host = "[" + host + "]";
    }
    return URI.create((tls ? "https://" : "http://") + host + ":" + port);
  }

  private static boolean loopback(String address) {
    try {
      return InetAddress.getByName(address).isLoopbackAddress();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot resolve bind address " + address, e);
    }
  }

  OptionalInt publicPort() {
    return publicListener.map(l -> OptionalInt.of(l.port())).orElse(OptionalInt.empty());
  }

  OptionalInt adminPort() {
    return admin.map(l -> OptionalInt.of(l.port())).orElse(OptionalInt.empty());
  }

  /** From now on /health/ready says 503, while the gRPC calls drain. */
  void stopping() {
    stopping = true;
  }

  @Override
  public void close() {
    publicListener.ifPresent(HttpListener::close);
    admin.ifPresent(HttpListener::close);
  }
}
