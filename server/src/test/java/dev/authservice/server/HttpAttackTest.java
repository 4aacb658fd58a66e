package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The public HTTP listener against a raw client on its port: other methods, bodies, long targets
 * and headers, encoded and relative paths, and clients that send their request too slowly to
 * hold every thread. Two threads, two queued, three seconds per exchange (room for a loaded test
 * machine), so the bounds are reached.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpAttackTest {
  private static final String JWKS = "/.well-known/jwks.json";
  private TestServer server;

  @BeforeAll
  void start() {
    server = TestServer.start(b -> b.http(HttpSettings.OFF.withPublicPort(OptionalInt.of(0))
        .withAdminPort(OptionalInt.of(0)).withLimits(2, 2, Duration.ofSeconds(3))));
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private String send(String request) throws IOException {
    return RawHttp.exchange(server.httpPort(), request);
  }

  private static String get(String target) {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  }

  @Test
  void onlyGetAndHeadAreServedAndEveryAnswerSaysItsTypeAndIsNotSniffed() throws IOException {
    for (String method : new String[] {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}) {
      String answer = send(method + " " + JWKS + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      assertTrue(answer.startsWith("HTTP/1.1 405"), method + ": " + answer);
      assertTrue(answer.contains("Allow: GET, HEAD"), answer);
      assertTrue(answer.contains("Cache-control: no-store") || answer.contains("Cache-Control: no-store"), answer);
    }
    String ok = send(get(JWKS));
    assertTrue(ok.startsWith("HTTP/1.1 200"), ok);
    assertTrue(ok.toLowerCase().contains("content-type: application/json"), ok);
    assertTrue(ok.toLowerCase().contains("x-content-type-options: nosniff"), ok);
    String head = send("HEAD " + JWKS + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertTrue(head.startsWith("HTTP/1.1 200"), head);
    assertFalse(head.contains("\"keys\""), "HEAD carries no body: " + head);
  }

  @Test
  void aRequestWithABodyIsRefusedUnread() throws IOException {
    String answer = send("GET " + JWKS + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
        + "x".repeat(1000));
    assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
    String chunked = send("GET " + JWKS + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    assertTrue(chunked.startsWith("HTTP/1.1 413"), chunked);
  }

  @Test
  void nothingButTheExactPathsAnswersAndErrorsAreNeverCached() throws IOException {
    for (String target : new String[] {"/", "/.well-known/", "/.well-known", "/.well-known/../.well-known/jwks.json",
        "/.well-known/%6Awks.json", "/.well-known/jwks.json/", "/.well-known/jwks.json%00", "//.well-known/jwks.json",
        "/.WELL-KNOWN/JWKS.JSON", "/etc/passwd", "/../../etc/passwd", "/metrics", "/health/ready"}) {
      String answer = send(get(target));
      assertTrue(answer.startsWith("HTTP/1.1 404") || answer.startsWith("HTTP/1.1 400"), target + ": " + answer);
      assertTrue(answer.toLowerCase().contains("cache-control: no-store")
          || answer.startsWith("HTTP/1.1 400"), target + ": " + answer);
      assertFalse(answer.contains("\"keys\""), target + ": " + answer);
    }
    String query = send(get(JWKS + "?cachebust=1"));
    assertTrue(query.startsWith("HTTP/1.1 200"), "a query string does not change what is served: " + query);
  }

  @Test
  void overlongTargetsAndHeadersAreRefused() throws IOException {
    String target = send(get(JWKS + "?" + "a".repeat(4000)));
    assertTrue(target.startsWith("HTTP/1.1 414"), target);
    String headers = send("GET " + JWKS + " HTTP/1.1\r\nHost: x\r\n" + "X-Filler: " + "b".repeat(20_000)
        + "\r\nConnection: close\r\n\r\n");
    assertTrue(headers.startsWith("HTTP/1.1 431"), headers);
  }

  @Test
  void clientsThatNeverFinishTheirRequestCannotHoldTheListener() throws Exception {
    List<Socket> slow = new ArrayList<>();
    try {
      // more than the threads and the queue together, each stopping in the middle of its headers
      for (int i = 0; i < 8; i++) {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", server.httpPort()), 5000);
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + JWKS + " HTTP/1.1\r\nHost: x\r\nX-Slow: ").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        slow.add(socket);
      }
      // an honest client gets its answer once the slow ones hit the deadline (three seconds)
      String[] answer = {""};
      Await.until("an answer while slow clients hold connections", 15, Duration.ofMillis(200), () -> {
        try {
          answer[0] = send(get(JWKS));
        } catch (IOException e) {
          answer[0] = e.toString();
        }
        return answer[0].startsWith("HTTP/1.1 200");
      });
      long threads = Thread.getAllStackTraces().keySet().stream()
          .filter(t -> t.getName().startsWith("http-public-") && !t.getName().contains("deadline")).count();
      assertTrue(threads <= 2, "the listener's pool is bounded: " + threads + " threads");
    } finally {
      for (Socket socket : slow) {
        socket.close();
      }
    }
  }

  @Test
  void theAdminListenerIsAsStrict() throws IOException {
    String post = RawHttp.exchange(server.adminPort(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
        + "Connection: close\r\n\r\n");
    assertTrue(post.startsWith("HTTP/1.1 405"), post);
    String jwks = RawHttp.exchange(server.adminPort(), get(JWKS));
    assertTrue(jwks.startsWith("HTTP/1.1 404"), "the admin port serves no keys: " + jwks);
    String live = RawHttp.exchange(server.adminPort(), get("/health/live"));
    assertTrue(live.startsWith("HTTP/1.1 200"), live);
    assertTrue(live.toLowerCase().contains("cache-control: no-store"), live);
    assertEquals(-1, RawHttp.exchange(server.httpPort(), get("/metrics")).indexOf("HTTP/1.1 200"),
        "the public port serves no metrics");
  }
}
