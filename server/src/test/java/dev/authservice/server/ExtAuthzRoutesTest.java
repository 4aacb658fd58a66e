package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.server.routes.RoutesFile;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The routes file on the real server: roles by prefix and method, paths that try to slip past a
 * prefix, a file edited while the server runs (good, then broken), a broken file at start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExtAuthzRoutesTest {
  private static final String RULES = """
      # prefix      methods  roles
      /admin/                admin
      /reports/     GET      auditor,admin
      /reports/     POST     admin
      /public/      *        *
      """;

  private Path dir;
  private Path routes;
  private TestServer server;
  private AuthorizationGrpc.AuthorizationBlockingStub envoy;
  private String auditor;
  private String admin;

  @BeforeAll
  void start() throws IOException {
    dir = Files.createTempDirectory("routes-test-");
    routes = dir.resolve("routes.txt");
    Files.writeString(routes, RULES);
    server = TestServer.start(b -> b.extAuthz(new ExtAuthzSettings(Optional.of(routes), Duration.ofMillis(50), "",
        "x-auth-subject", "x-auth-username", "x-auth-roles", true, "shop", Optional.empty())));
    envoy = EnvoyChecks.stub(server);
    admin = server.adminToken();
    TestServer.withBearer(server.userAdmin(), admin).createUser(CreateUserRequest.newBuilder()
        .setUsername("alice").setPassword("alice-Password-1").addRoles("auditor").build());
    auditor = server.login("alice", "alice-Password-1").getAccessToken();
  }

  @AfterAll
  void stop() throws IOException {
    server.close();
    try (var files = Files.list(dir)) {
      for (Path file : files.toList()) {
        Files.delete(file);
      }
    }
    Files.delete(dir);
  }

  private CheckResponse check(String token, String method, String path) {
    return envoy.check(new EnvoyChecks.Request(method, path).bearer(token).build());
  }

  private void assertAllowed(String token, String method, String path) {
    CheckResponse response = check(token, method, path);
    assertEquals(Code.OK_VALUE, response.getStatus().getCode(), method + " " + path + ": " + response.getStatus());
  }

  private void assertRefused(String token, String method, String path, int code, String failure) {
    CheckResponse response = check(token, method, path);
    assertEquals(code, response.getStatus().getCode(), method + " " + path + ": " + response.getStatus());
    assertEquals(failure, EnvoyChecks.deniedHeader(response, "x-auth-failure"), method + " " + path);
  }

  @Test
  void theLongestPrefixAndItsMethodsDecide() {
    assertAllowed(auditor, "GET", "/reports/daily");
    assertAllowed(admin, "POST", "/reports/daily");
    assertAllowed(auditor, "GET", "/public/logo.png");
    assertAllowed(admin, "GET", "/admin/users");
    assertAllowed(auditor, "GET", "/public/x?next=/admin/users");

    CheckResponse forbidden = check(auditor, "POST", "/reports/daily");
    assertEquals(Code.PERMISSION_DENIED_VALUE, forbidden.getStatus().getCode());
    assertEquals(io.envoyproxy.envoy.type.v3.StatusCode.Forbidden, forbidden.getDeniedResponse().getStatus().getCode());
    assertEquals("MISSING_ROLE", EnvoyChecks.deniedHeader(forbidden, "x-auth-failure"));
    String challenge = EnvoyChecks.deniedHeader(forbidden, "www-authenticate");
    assertTrue(challenge.startsWith("Bearer realm=\"shop\", error=\"insufficient_scope\""), challenge);
    assertTrue(challenge.endsWith("scope=\"admin\""), challenge);

    assertRefused(auditor, "GET", "/admin/users", Code.PERMISSION_DENIED_VALUE, "MISSING_ROLE");
    assertRefused(auditor, "GET", "/admin", Code.PERMISSION_DENIED_VALUE, "MISSING_ROLE");
    // the longest prefix lists no DELETE: not passed on to a shorter rule, refused
    assertRefused(admin, "DELETE", "/reports/daily", Code.PERMISSION_DENIED_VALUE, "NO_ROUTE_RULE");
    assertRefused(admin, "GET", "/elsewhere", Code.PERMISSION_DENIED_VALUE, "NO_ROUTE_RULE");
    assertRefused(admin, "GET", "/administrator", Code.PERMISSION_DENIED_VALUE, "NO_ROUTE_RULE");
  }

  @Test
  void pathsThatCouldReachAnotherPrefixUpstreamAreRefused() {
    // each of these may be /admin/users to the upstream while it starts with /public/ (or nothing) here
    for (String path : List.of("/public/../admin/users", "/public/%2e%2e/admin/users", "/public/%2E./admin/users",
        "//admin/users", "/public//../admin/users", "/public/..%2Fadmin/users", "/public\\..\\admin\\users",
        "/public/./../admin", "public/x", "/public/%zz",
        // path parameters: a Servlet container strips them, and reads /admin/users
        "/admin;x/users", "/public/..;/admin/users", "/public/%2e%2e;/admin/users", "/admin%3Bx/users")) {
      CheckResponse response = check(auditor, "GET", path);
      assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode(), path);
      assertEquals("UNNORMALIZED_PATH", EnvoyChecks.deniedHeader(response, "x-auth-failure"), path);
      assertEquals(io.envoyproxy.envoy.type.v3.StatusCode.BadRequest,
          response.getDeniedResponse().getStatus().getCode());
    }
    // an encoded letter is the letter (RFC 3986 §6.2.2.2): the /admin/ rule applies
    assertRefused(auditor, "GET", "/%61dmin/users", Code.PERMISSION_DENIED_VALUE, "MISSING_ROLE");
    assertAllowed(admin, "GET", "/%61dmin/users");
  }

  @Test
  void theAuthorizationHeaderIsRemovedWhenSoConfigured() {
    CheckResponse response = check(auditor, "GET", "/public/x");
    assertTrue(response.getOkResponse().getHeadersToRemoveList().contains("authorization"));
  }

  @Test
  void anEditedFileTakesEffectAndABrokenEditKeepsThePreviousRules() throws Exception {
    try (LogCapture log = LogCapture.of(RoutesFile.class)) {
      assertRefused(auditor, "GET", "/status/health", Code.PERMISSION_DENIED_VALUE, "NO_ROUTE_RULE");
      Files.writeString(routes, RULES + "/status/  GET  *\n");
      Await.until("the edited routes file in force", 10,
          () -> check(auditor, "GET", "/status/health").getStatus().getCode() == Code.OK_VALUE);

      // broken in one line, and giving auditors /admin/ in another: a parser that skipped the bad
      // line would apply the rest
      String broken = RULES.replace("/admin/                admin", "/admin/  auditor")
          + "/status/ GET\n/this line is not a rule\n";
      assertTrue(broken.contains("/admin/  auditor"));
      Files.writeString(routes, broken);
      Await.until("the broken file reported", 10, () -> log.contains("the previous rules stay in force"));
      assertRefused(auditor, "GET", "/admin/users", Code.PERMISSION_DENIED_VALUE, "MISSING_ROLE");
      assertAllowed(auditor, "GET", "/status/health");

      Files.writeString(routes, RULES);
      Await.until("the fixed file in force", 10,
          () -> check(auditor, "GET", "/status/health").getStatus().getCode() == Code.PERMISSION_DENIED_VALUE);
    } finally {
      Files.writeString(routes, RULES);
    }
  }

  @Test
  void aBrokenFileAtStartStopsTheServer() throws IOException {
    Path broken = dir.resolve("broken.txt");
    Files.writeString(broken, "/admin/ admin\n/reports/ get auditor\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TestServer.start(b -> b.extAuthz(ExtAuthzSettings.DEFAULTS.withRoutesFile(Optional.of(broken)))).close());
    assertTrue(e.getMessage().contains(broken.toString()) && e.getMessage().contains("line 2"), e.getMessage());
    Path missing = dir.resolve("missing.txt");
    IllegalArgumentException absent = assertThrows(IllegalArgumentException.class,
        () -> TestServer.start(b -> b.extAuthz(ExtAuthzSettings.DEFAULTS.withRoutesFile(Optional.of(missing)))).close());
    assertTrue(absent.getMessage().contains(missing.toString()), absent.getMessage());
  }
}
