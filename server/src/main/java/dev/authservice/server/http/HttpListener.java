package dev.authservice.server.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small read-only HTTP listener on the JDK's server: a fixed table of exact paths, GET and HEAD
 * only, no request bodies, bounded request sizes, a bounded pool with a deadline per exchange (see
 * {@link DeadlineExecutor}). The path is matched as sent, undecoded, so no encoding reaches a
 * file or another route; there is nothing to list. Every answer says its media type and
 * {@code nosniff}; errors are never cached.
 */
public final class HttpListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpListener.class);
  static final int MAX_TARGET_LENGTH = 2048;
  static final int MAX_HEADER_BYTES = 16 * 1024;
  private static final int BACKLOG = 64;

  /** The bounds of one listener: threads, connections waiting for one, and the longest exchange. */
  public record Limits(int threads, int queue, Duration requestTimeout) {
    public Limits {
      if (threads < 1 || queue < 1 || requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("HTTP threads and queue must be at least 1 and the request timeout positive");
      }
    }
  }

  private final HttpServer server;
  private final DeadlineExecutor executor;
  private final String name;

  private HttpListener(HttpServer server, DeadlineExecutor executor, String name) {
    this.server = server;
    this.executor = executor;
    this.name = name;
  }

  /**
   * Listens on {@code address} with TLS when {@code tls} is present.
   *
   * @param routes given the port bound (when 0 was asked for, the one the system chose): exact raw
   *     paths to what answers them
   */
  public static HttpListener start(String name, InetSocketAddress address, Optional<SSLContext> tls, Limits limits,
      java.util.function.IntFunction<Map<String, Supplier<HttpResponse>>> routes) {
    DeadlineExecutor executor = new DeadlineExecutor(name, limits.threads(), limits.queue(), limits.requestTimeout());
    try {
      HttpServer server;
      if (tls.isPresent()) {
        HttpsServer https = HttpsServer.create(address, BACKLOG);
        https.setHttpsConfigurator(new HttpsConfigurator(tls.get()));
        server = https;
      } else {
        server = HttpServer.create(address, BACKLOG);
      }
      Map<String, Supplier<HttpResponse>> table = Map.copyOf(routes.apply(server.getAddress().getPort()));
      server.createContext("/", exchange -> answer(exchange, table, name));
      server.setExecutor(executor);
      server.start();
      return new HttpListener(server, executor, name);
    } catch (IOException e) {
      executor.close();
      throw new UncheckedIOException("cannot listen for " + name + " on " + address, e);
    } catch (RuntimeException e) {
      executor.close();
      throw e;
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void answer(HttpExchange exchange, Map<String, Supplier<HttpResponse>> routes, String name)
      throws IOException {
    try (exchange) {
      Headers headers = exchange.getRequestHeaders();
      boolean head = "HEAD".equals(exchange.getRequestMethod());
      if (carriesBody(headers)) {
        // not read: the connection closes instead
        exchange.getResponseHeaders().set("Connection", "close");
        send(exchange, HttpResponse.error(413, "requests to this server carry no body"), head);
        return;
      }
      if (!head && !"GET".equals(exchange.getRequestMethod())) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, HttpResponse.error(405, "only GET and HEAD are served"), false);
        return;
      }
      if (exchange.getRequestURI().getRawPath() == null
          || exchange.getRequestURI().toString().length() > MAX_TARGET_LENGTH) {
        send(exchange, HttpResponse.error(414, "the request target is longer than " + MAX_TARGET_LENGTH + " bytes"),
            head);
        return;
      }
      if (headerBytes(headers) > MAX_HEADER_BYTES) {
        send(exchange, HttpResponse.error(431, "the request headers exceed " + MAX_HEADER_BYTES + " bytes"), head);
        return;
      }
      Supplier<HttpResponse> route = routes.get(exchange.getRequestURI().getRawPath());
      if (route == null) {
        send(exchange, HttpResponse.error(404, "not found"), head);
        return;
      }
      HttpResponse response;
      try {
        response = route.get();
      } catch (RuntimeException e) {
        log.warn("{} {} failed: {}", name, exchange.getRequestURI().getRawPath(), e.toString());
        response = HttpResponse.error(503, "temporarily unavailable; retry shortly");
      }
      send(exchange, response, head);
    }
  }

  private static boolean carriesBody(Headers headers) {
    if (headers.containsKey("Transfer-Encoding")) {
      return true;
    }
    String length = headers.getFirst("Content-Length");
    return length != null && !length.trim().equals("0");
  }

  private static long headerBytes(Headers headers) {
    long total = 0;
    for (Map.Entry<String, List<String>> header : headers.entrySet()) {
      for (String value : header.getValue()) {
        total += header.getKey().length() + value.length() + 4;
      }
    }
    return total;
  }

  private static void send(HttpExchange exchange, HttpResponse response, boolean head) throws IOException {
    Headers out = exchange.getResponseHeaders();
    out.set("Content-Type", response.contentType());
    out.set("Cache-Control", response.cacheControl());
    out.set("X-Content-Type-Options", "nosniff");
    if (head) {
      out.set("Content-Length", Integer.toString(response.body().length));
      exchange.sendResponseHeaders(response.status(), -1);
      return;
    }
    exchange.sendResponseHeaders(response.status(), response.body().length == 0 ? -1 : response.body().length);
    try (OutputStream body = exchange.getResponseBody()) {
      body.write(response.body());
    }
  }

  /** Stops listening, lets running exchanges finish for up to a second, then stops the threads. */
  @Override
  public void close() {
    server.stop(1);
    executor.close();
    log.debug("{} stopped", name);
  }
}
