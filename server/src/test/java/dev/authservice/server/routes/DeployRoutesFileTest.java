package dev.authservice.server.routes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The example routes file in deploy/envoy parses and means what its comments say. */
class DeployRoutesFileTest {
  @Test
  void theExampleRoutesFileLoadsAndDecidesAsDocumented() {
    Path file = Path.of("..", "deploy", "envoy", "routes.txt");
    assertEquals(true, Files.isRegularFile(file), file.toAbsolutePath().toString());
    RouteRules rules = RoutesFile.load(file).rules();
    assertEquals(Optional.of(Set.of()), rules.match("GET", "/index.html").map(RouteRule::roles));
    assertEquals(Optional.empty(), rules.match("POST", "/index.html"), "only GET and HEAD outside the prefixes");
    assertEquals(Optional.of(Set.of("admin")), rules.match("GET", "/admin/users").map(RouteRule::roles));
    assertEquals(Optional.of(Set.of("auditor", "admin")), rules.match("GET", "/reports/daily").map(RouteRule::roles));
    assertEquals(Optional.of(Set.of("admin")), rules.match("POST", "/reports/daily").map(RouteRule::roles));
    assertEquals(Optional.empty(), rules.match("DELETE", "/reports/daily"));
    assertEquals(Optional.of(Set.of()), rules.match("POST", "/public/form").map(RouteRule::roles));
  }
}
