package dev.authservice.server;

import dev.authservice.server.grpc.CheckHeaders;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Envoy external authorization (envoy.service.auth.v3.Authorization/Check): the routes file and how
 * often it is looked at, the audience tokens must carry (empty: {@code AUTH_AUDIENCE}), the headers
 * an allowed request gets, whether its {@code authorization} header goes, the realm of the
 * challenges (empty: {@code AUTH_ISSUER}), and the cookie the token may come in (empty: none).
 */
public record ExtAuthzSettings(Optional<Path> routesFile, Duration routesPollInterval, String audience,
    String subjectHeader, String usernameHeader, String rolesHeader, boolean removeAuthorization, String realm,
    Optional<String> tokenCookie) {
  public static final ExtAuthzSettings DEFAULTS = new ExtAuthzSettings(Optional.empty(), Duration.ofSeconds(2), "",
      "x-auth-subject", "x-auth-username", "x-auth-roles", false, "", Optional.empty());
  private static final int MAX_AUDIENCE = 256;
  private static final int MAX_COOKIE_NAME = 128;

  public ExtAuthzSettings {
    if (routesPollInterval.isNegative() || routesPollInterval.isZero()
        || routesPollInterval.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException("AUTH_EXT_AUTHZ_ROUTES_POLL_INTERVAL must be positive and at most PT1H, got "
          + routesPollInterval);
    }
    if (audience.length() > MAX_AUDIENCE) {
      throw new IllegalArgumentException("AUTH_EXT_AUTHZ_AUDIENCE must be at most " + MAX_AUDIENCE + " characters");
    }
    if (tokenCookie.isPresent() && !isCookieName(tokenCookie.get())) {
      throw new IllegalArgumentException("AUTH_EXT_AUTHZ_TOKEN_COOKIE must be a cookie name: 1 to " + MAX_COOKIE_NAME
          + " visible ASCII characters without ( ) < > @ , ; : \\ \" / [ ] ? = { }");
    }
  }

  /** The same settings with another token cookie; empty: none. */
  ExtAuthzSettings withTokenCookie(Optional<String> name) {
    return new ExtAuthzSettings(routesFile, routesPollInterval, audience, subjectHeader, usernameHeader, rolesHeader,
        removeAuthorization, realm, name);
  }

  /** An RFC 6265 cookie-name: an RFC 2616 token, visible ASCII but the separators. */
  private static boolean isCookieName(String name) {
    if (name.isEmpty() || name.length() > MAX_COOKIE_NAME) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c <= 0x20 || c >= 0x7f || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }

  /** The response settings of the edge; checks the names and the realm. */
  CheckHeaders checkHeaders(String issuer) {
    return new CheckHeaders(subjectHeader, usernameHeader, rolesHeader, removeAuthorization,
        realm.isEmpty() ? issuer : realm);
  }

  ExtAuthzSettings withRoutesFile(Optional<Path> file) {
    return new ExtAuthzSettings(file, routesPollInterval, audience, subjectHeader, usernameHeader, rolesHeader,
        removeAuthorization, realm, tokenCookie);
  }
}
