package dev.authservice.server.routes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The routes file format and the choice of a rule, without a server. */
class RouteRulesTest {
  private static final RouteRules RULES = RouteRules.parse("""
      # comment
      /            *            *
      /api/                     reader
      /api/        POST,PUT     writer
      /api/admin                admin
      """);

  private static Optional<Set<String>> roles(String method, String path) {
    return RULES.match(method, path).map(RouteRule::roles);
  }

  @Test
  void theLongestCoveringPrefixDecidesAndItsNamedMethodBeatsItsStar() {
    assertEquals(Optional.of(Set.of()), roles("GET", "/"));
    assertEquals(Optional.of(Set.of()), roles("GET", "/index.html"));
    assertEquals(Optional.of(Set.of("reader")), roles("GET", "/api/orders"));
    assertEquals(Optional.of(Set.of("writer")), roles("POST", "/api/orders"));
    assertEquals(Optional.of(Set.of("reader")), roles("GET", "/api"), "/api/ covers /api");
    assertEquals(Optional.of(Set.of("admin")), roles("GET", "/api/admin"));
    assertEquals(Optional.of(Set.of("admin")), roles("GET", "/api/administrators"), "a prefix without / is a plain prefix");
    assertEquals(4, RULES.size());
  }

  @Test
  void aPrefixListingOtherMethodsOnlyMatchesNothing() {
    RouteRules rules = RouteRules.parse("/ * *\n/billing/ GET billing\n");
    assertEquals(Optional.empty(), rules.match("DELETE", "/billing/1"));
    assertTrue(rules.match("GET", "/billing/1").isPresent());
  }

  @Test
  void badLinesAreRefusedWithTheirNumber() {
    for (String[] bad : new String[][] {
        {"/a/ admin\nadmin /b/\n", "line 2"},
        {"/a/ get admin\n", "line 1"},
        {"/a/ GET Admin\n", "line 1"},
        {"/a/ GET admin extra\n", "line 1"},
        {"/a/../b/ admin\n", "line 1"},
        {"/a//b/ admin\n", "line 1"},
        {"/a%2Fb admin\n", "line 1"},
        {"/a/ admin\n/a/ reader\n", "line 2"},
        {"/a/ GET admin\n/a/ GET,POST reader\n", "line 2"},
        {"/a/\n", "line 1"}}) {
      RouteRules.InvalidRules e = assertThrows(RouteRules.InvalidRules.class, () -> RouteRules.parse(bad[0]), bad[0]);
      assertTrue(e.getMessage().startsWith(bad[1]), bad[0] + " -> " + e.getMessage());
    }
  }

  @Test
  void pathsInNormalFormOnly() {
    assertEquals(Optional.of("/a/b"), RequestPath.normalized("/a/b?x=1#f"));
    assertEquals(Optional.of("/admin/"), RequestPath.normalized("/%61dmin/"));
    assertEquals(Optional.of("/a%20b/%C3%A9"), RequestPath.normalized("/a%20b/%c3%a9"));
    assertEquals(Optional.of("/a/"), RequestPath.normalized("/a/"));
    for (String bad : new String[] {"", "*", "a/b", "//a", "/a//b", "/a/./b", "/a/../b", "/a/..", "/a/%2e%2E/b",
        "/a%2fb", "/a%5Cb", "/a\\b", "/a%", "/a%4", "/a%g1", "/a b", "/é", "/a%٣F"}) {
      assertEquals(Optional.empty(), RequestPath.normalized(bad), bad);
    }
  }
}
