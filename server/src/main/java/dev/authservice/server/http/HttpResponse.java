package dev.authservice.server.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One answer of the HTTP listeners: status, media type, body and how long it may be cached.
 * Errors are never cached ({@code no-store}): a transient 503 must not be served from a cache
 * after the cause is gone.
 */
public record HttpResponse(int status, String contentType, byte[] body, String cacheControl) {
  static final String JSON = "application/json";
  static final String TEXT = "text/plain; charset=utf-8";

  /** A JSON document a shared cache may keep for {@code maxAge}; zero: revalidate every time. */
  public static HttpResponse json(String body, Duration maxAge) {
    return new HttpResponse(200, JSON, body.getBytes(StandardCharsets.UTF_8), publicFor(maxAge));
  }

  /** A document that must not be cached: health, metrics. */
  public static HttpResponse uncached(int status, String contentType, String body) {
    return new HttpResponse(status, contentType, body.getBytes(StandardCharsets.UTF_8), "no-store");
  }

  static HttpResponse error(int status, String message) {
    return uncached(status, TEXT, message + "\n");
  }

  private static String publicFor(Duration maxAge) {
    return maxAge.isZero() ? "no-cache" : "public, max-age=" + maxAge.toSeconds();
  }
}
