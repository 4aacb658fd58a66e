package dev.authservice.server.routes;

import java.util.Set;

/**
 * One line of the routes file: requests whose path starts with {@code prefix} and whose method is
 * one of {@code methods} (empty: any) need a token holding one of {@code roles} (empty: any active
 * token will do).
 */
public record RouteRule(String prefix, Set<String> methods, Set<String> roles, int line) {
  public RouteRule {
    methods = Set.copyOf(methods);
    roles = Set.copyOf(roles);
  }

  /**
   * Whether the path is under the prefix: a plain string prefix, except that a prefix ending in
   * {@code /} also covers the path without that slash ({@code /admin/} covers {@code /admin}, which
   * most servers answer as the same resource, but not {@code /administrator}).
   */
  boolean covers(String path) {
    return path.startsWith(prefix)
        || (prefix.length() > 1 && prefix.endsWith("/") && path.equals(prefix.substring(0, prefix.length() - 1)));
  }

  boolean anyMethod() {
    return methods.isEmpty();
  }
}
