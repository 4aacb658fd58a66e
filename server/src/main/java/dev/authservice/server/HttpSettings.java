package dev.authservice.server;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The two HTTP listeners beside the gRPC port: the public one (JWK Set and issuer metadata, for
 * verifiers that check tokens locally) and the admin one (metrics and health, for the platform).
 * Two ports, so that a network policy can open the first to every workload and the second to the
 * monitoring system and the kubelet only. Each is off when its port is empty; port 0 takes any
 * free port. Both share the thread, queue and time bounds.
 */
public record HttpSettings(
    OptionalInt publicPort,
    String publicBindAddress,
    Optional<URI> publicBaseUrl,
    Duration jwksMaxAge,
    OptionalInt adminPort,
    String adminBindAddress,
    int threads,
    int queue,
    Duration requestTimeout) {

  static final Duration MAX_JWKS_MAX_AGE = Duration.ofHours(1);

  /** Both listeners off (the tests' default; the server's flags turn them on). */
  public static final HttpSettings OFF = new HttpSettings(OptionalInt.empty(), "127.0.0.1", Optional.empty(),
      Duration.ofMinutes(1), OptionalInt.empty(), "127.0.0.1", 4, 64, Duration.ofSeconds(10));

  public HttpSettings {
    publicPort.ifPresent(p -> checkPort("AUTH_HTTP_PORT", p));
    adminPort.ifPresent(p -> checkPort("AUTH_ADMIN_PORT", p));
    if (jwksMaxAge.isNegative() || jwksMaxAge.compareTo(MAX_JWKS_MAX_AGE) > 0) {
      throw new IllegalArgumentException("AUTH_JWKS_MAX_AGE must be between PT0S and " + MAX_JWKS_MAX_AGE
          + ", got " + jwksMaxAge);
    }
    if (threads < 1 || threads > 64 || queue < 1 || queue > 10_000) {
      throw new IllegalArgumentException("AUTH_HTTP_THREADS must be 1..64 and AUTH_HTTP_QUEUE 1..10000");
    }
    if (requestTimeout.isNegative() || requestTimeout.isZero()
        || requestTimeout.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("AUTH_HTTP_REQUEST_TIMEOUT must be positive and at most PT1M, got "
          + requestTimeout);
    }
    publicBaseUrl.ifPresent(HttpSettings::checkBaseUrl);
  }

  public HttpSettings withPublicPort(OptionalInt port) {
    return new HttpSettings(port, publicBindAddress, publicBaseUrl, jwksMaxAge, adminPort, adminBindAddress, threads,
        queue, requestTimeout);
  }

  public HttpSettings withAdminPort(OptionalInt port) {
    return new HttpSettings(publicPort, publicBindAddress, publicBaseUrl, jwksMaxAge, port, adminBindAddress, threads,
        queue, requestTimeout);
  }

  public HttpSettings withLimits(int threadCount, int queueCapacity, Duration timeout) {
    return new HttpSettings(publicPort, publicBindAddress, publicBaseUrl, jwksMaxAge, adminPort, adminBindAddress,
        threadCount, queueCapacity, timeout);
  }

  public HttpSettings withPublicBaseUrl(Optional<URI> url) {
    return new HttpSettings(publicPort, publicBindAddress, url, jwksMaxAge, adminPort, adminBindAddress, threads,
        queue, requestTimeout);
  }

  /** A port setting: a number, or {@code off}. */
  static OptionalInt parsePort(String name, String value) {
    String v = value.trim();
    if (v.isEmpty() || v.equalsIgnoreCase("off")) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(checkPort(name, Integer.parseInt(v)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a port number (0: any free one) or off, got '" + value + "'");
    }
  }

  private static int checkPort(String name, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(name + " must be between 0 and 65535 or off, got " + port);
    }
    return port;
  }

  private static void checkBaseUrl(URI url) {
    String scheme = url.getScheme();
    if (scheme == null || !(scheme.equals("https") || scheme.equals("http")) || url.getHost() == null
        || url.getRawQuery() != null || url.getRawFragment() != null || url.getRawUserInfo() != null) {
      throw new IllegalArgumentException("AUTH_PUBLIC_BASE_URL must be an absolute http(s) URL without user,"
          + " query or fragment, such as https://auth.example.com, got '" + url + "'");
    }
  }
}
