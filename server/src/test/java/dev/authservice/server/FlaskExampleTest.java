package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/python-flask, the way a Python web API uses us: its stubs generated from proto/ by grpc_tools, the
 * real server, the app as a child process on loopback, and a real HTTP client driving its routes. The token
 * lives in an HttpOnly cookie, never in a body or the app's log; the answers tell an expired token from an
 * invalid one; the trail names the Flask process as the caller of every RPC it made.
 */
class FlaskExampleTest {
  private static final Path ROOT = Path.of("..");
  private static final Path EXAMPLE = ROOT.resolve("examples/python-flask");
  private static final String COOKIE = "access_token";
  private static final String PASSWORD = "alice-Password-1";

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * A Python with grpcio, grpc_tools and flask: AUTH_PYTHON, else python3 on the PATH, else the system's (where
   * the Debian packages go). Skips the test when there is none, unless AUTH_REQUIRE_PYTHON_TESTS=1 (CI).
   */
  private static String python() throws InterruptedException {
    List<String> candidates = new ArrayList<>();
    Optional.ofNullable(System.getenv("AUTH_PYTHON")).filter(p -> !p.isBlank()).ifPresent(candidates::add);
    candidates.addAll(List.of("python3", "/usr/bin/python3"));
    for (String candidate : candidates) {
      try {
        Process probe = new ProcessBuilder(candidate, "-c", "import grpc, grpc_tools.protoc, flask")
            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0) {
          return candidate;
        }
        probe.destroyForcibly();
      } catch (IOException notThere) {
        // try the next one
      }
    }
    if ("1".equals(System.getenv("AUTH_REQUIRE_PYTHON_TESTS"))) {
      throw new AssertionError("python3 with grpcio, grpc_tools and flask is required (AUTH_REQUIRE_PYTHON_TESTS=1)"
          + " but none of " + candidates + " has them");
    }
    Assumptions.abort("no python3 with grpcio, grpc_tools and flask here (apt-get install python3-grpcio"
        + " python3-grpc-tools python3-flask); .ci/run installs them and requires this test");
    return null;
  }

  /** Generates the stubs exactly as the example's README says, into a directory of the test's own. */
  private Path generateStubs(String python) throws Exception {
    Path stubs = Files.createDirectories(dir.resolve("generated"));
    Path log = dir.resolve("protoc.log");
    Process protoc = new ProcessBuilder(python, "-m", "grpc_tools.protoc", "-I", ROOT.resolve("proto/src/main/proto")
        .toString(), "--python_out=" + stubs, "--grpc_python_out=" + stubs, "auth/v1/auth.proto")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(protoc.waitFor(120, TimeUnit.SECONDS), "protoc finished");
    assertEquals(0, protoc.exitValue(), Files.readString(log));
    assertTrue(Files.exists(stubs.resolve("auth/v1/auth_pb2_grpc.py")), "stubs generated");
    return stubs;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> login(URI app, String username, String password) throws Exception {
    return send(HttpRequest.newBuilder(app.resolve("/login")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"" + username + "\",\"password\":\"" + password
            + "\"}")));
  }

  private HttpResponse<String> protectedRoute(URI app, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(app.resolve("/protected")).GET();
    if (token != null) {
      request.header("Cookie", COOKIE + "=" + token);
    }
    return send(request);
  }

  /** The one Set-Cookie header for the access token, with its attributes. */
  private static String setCookie(HttpResponse<String> response) {
    List<String> cookies = response.headers().allValues("Set-Cookie").stream()
        .filter(c -> c.startsWith(COOKIE + "=")).toList();
    assertEquals(1, cookies.size(), "one access_token cookie: " + response.headers().allValues("Set-Cookie"));
    return cookies.get(0);
  }

  private static String cookieValue(String setCookie) {
    return setCookie.substring(COOKIE.length() + 1, setCookie.indexOf(';'));
  }

  private static List<String> attributes(String setCookie) {
    return List.of(setCookie.substring(setCookie.indexOf(';') + 1).split(";")).stream()
        .map(a -> a.strip().toLowerCase(Locale.ROOT)).toList();
  }

  /** A token whose signature no longer matches: one character in the middle of the signature changed. */
  private static String tampered(String token) {
    int signature = token.lastIndexOf('.') + 1;
    int at = signature + (token.length() - signature) / 2;
    char replacement = token.charAt(at) == 'A' ? 'B' : 'A';
    return token.substring(0, at) + replacement + token.substring(at + 1);
  }

  private static void assertAnswer(int status, String message, HttpResponse<String> response) {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals("{\"message\":\"" + message + "\"}", response.body().strip());
  }

  @Test
  void aFlaskApiLogsInWithACookieAndTellsAnExpiredTokenFromAnInvalidOne() throws Exception {
    String python = python();
    Path stubs = generateStubs(python);
    MutableClock clock = new MutableClock();
    try (TestServer server = TestServer.start(b -> b, clock)) {
      TestServer.withBearer(server.userAdmin(), server.adminToken()).createUser(CreateUserRequest.newBuilder()
          .setUsername("alice").setPassword(PASSWORD).addRoles("reader").build());
      int port = freePort();
      Path appLog = dir.resolve("flask.log");
      ProcessBuilder builder = new ProcessBuilder(python, EXAMPLE.resolve("app.py").toString())
          .redirectErrorStream(true).redirectOutput(appLog.toFile());
      builder.environment().put("AUTH_TARGET", "127.0.0.1:" + server.port());
      builder.environment().put("AUTH_STUBS_DIR", stubs.toString());
      builder.environment().put("HOST", "127.0.0.1");
      builder.environment().put("PORT", String.valueOf(port));
      builder.environment().put("PYTHONUNBUFFERED", "1");
      Process flask = builder.start();
      List<String> tokens = new ArrayList<>();
      try {
        URI app = URI.create("http://127.0.0.1:" + port);
        Await.until("the Flask app answers", 60, Duration.ofMillis(100), () -> {
          assertTrue(flask.isAlive(), () -> "the Flask app exited: " + read(appLog));
          try {
            return protectedRoute(app, null).statusCode() == 401;
          } catch (Exception notYet) {
            return false;
          }
        });

        // no cookie: nothing to ask about
        assertAnswer(401, "Invalid token", protectedRoute(app, null));
        assertAnswer(401, "Invalid username or password", login(app, "alice", "not-the-password"));

        // login: the token only in a cookie a script cannot read, sent only over HTTPS, only to this site
        HttpResponse<String> loggedIn = login(app, "alice", PASSWORD);
        assertEquals(200, loggedIn.statusCode(), loggedIn.body());
        String cookie = setCookie(loggedIn);
        String token = cookieValue(cookie);
        tokens.add(token);
        assertEquals(3, token.split("\\.").length, "a JWT in the cookie");
        List<String> flags = attributes(cookie);
        assertTrue(flags.contains("httponly"), flags.toString());
        assertTrue(flags.contains("secure"), flags.toString());
        assertTrue(flags.contains("samesite=strict"), flags.toString());
        assertTrue(flags.contains("path=/"), flags.toString());
        assertFalse(loggedIn.body().contains(token), "no token in the body");
        assertEquals("{\"username\":\"alice\"}", loggedIn.body().strip());

        HttpResponse<String> allowed = protectedRoute(app, token);
        assertEquals(200, allowed.statusCode(), allowed.body());
        assertEquals("{\"username\":\"alice\"}", allowed.body().strip());
        assertAnswer(401, "Invalid token", protectedRoute(app, tampered(token)));
        assertAnswer(401, "Invalid token", protectedRoute(app, "x".repeat(20_000)));

        // logout: the cookie cleared, and the token itself dead, not only forgotten by the browser
        HttpResponse<String> loggedOut = send(HttpRequest.newBuilder(app.resolve("/logout"))
            .header("Cookie", COOKIE + "=" + token).POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(204, loggedOut.statusCode(), loggedOut.body());
        String cleared = setCookie(loggedOut);
        assertEquals("", cookieValue(cleared));
        assertTrue(attributes(cleared).contains("max-age=0"), cleared);
        assertAnswer(401, "Invalid token", protectedRoute(app, token));

        // expired: past the lifetime and the allowed skew, by the server's clock
        HttpResponse<String> again = login(app, "alice", PASSWORD);
        assertEquals(200, again.statusCode(), again.body());
        String second = cookieValue(setCookie(again));
        tokens.add(second);
        assertEquals(200, protectedRoute(app, second).statusCode());
        clock.advance(server.config().tokenTtl().plus(server.config().clockSkew()).plusMinutes(1));
        assertAnswer(401, "Expired token", protectedRoute(app, second));

        assertTrailNamesTheFlaskProcess(server, tokenId(server, token), tokenId(server, second));

        // unreachable: the service is down, which is not the user's fault
        server.stopServer();
        assertAnswer(503, "Authentication service unavailable", protectedRoute(app, second));
      } finally {
        flask.destroy();
        if (!flask.waitFor(10, TimeUnit.SECONDS)) {
          flask.destroyForcibly();
        }
      }
      String log = read(appLog);
      assertTrue(log.contains("POST /login"), "the app logged its requests: " + log);
      for (String token : tokens) {
        assertFalse(log.contains(token), "no token in the app's log");
        assertFalse(log.contains(token.substring(token.lastIndexOf('.') + 1)), "no signature in the app's log");
      }
      assertFalse(log.contains(PASSWORD), "no password in the app's log");
    }
  }

  /** The token's jti (the audit events' token_id), read from its payload. */
  private static String tokenId(TestServer server, String token) {
    String payload = token.split("\\.")[1];
    String json = new String(java.util.Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8);
    int at = json.indexOf("\"jti\":\"") + 7;
    return json.substring(at, json.indexOf('"', at));
  }

  private static void assertTrailNamesTheFlaskProcess(TestServer server, String revoked, String expired) {
    var events = server.database().getCollection("audit_events");
    Document login = events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"),
        Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"), Filters.eq("token_id", revoked))).first();
    assertFlaskCalled(login, "the login");
    assertEquals("alice", login.getString("username"));
    assertFlaskCalled(events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_LOGIN"),
        Filters.eq("outcome", "AUDIT_OUTCOME_FAILURE"), Filters.eq("username", "alice"))).first(), "the failed login");
    assertFlaskCalled(events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"),
        Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"), Filters.eq("token_id", revoked))).first(), "a validation");
    assertFlaskCalled(events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"),
        Filters.eq("reason", "VALIDATION_FAILURE_REVOKED"), Filters.eq("token_id", revoked))).first(),
        "the revoked token's validation");
    assertFlaskCalled(events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_VALIDATE"),
        Filters.eq("reason", "VALIDATION_FAILURE_EXPIRED"), Filters.eq("token_id", expired))).first(),
        "the expired token's validation");
    Document revocation = events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_TOKEN_REVOKE"),
        Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"), Filters.eq("token_id", revoked))).first();
    assertFlaskCalled(revocation, "the revocation");
    assertEquals("alice", revocation.getString("username"));
  }

  private static void assertFlaskCalled(Document event, String what) {
    assertTrue(event != null, what + " is in the trail");
    assertEquals("127.0.0.1", event.getString("client_ip"), what + ": " + event.toJson());
    // the caller is the Python process, not this test's Java stubs on the same address
    assertTrue(String.valueOf(event.getString("user_agent")).startsWith("grpc-python"), what + ": " + event.toJson());
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }
}
