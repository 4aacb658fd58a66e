package dev.authservice.server.grpc;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What an allowed Check adds to the request Envoy forwards upstream, and the realm of the challenges
 * a denied one sends back: header names in lower case, distinct, none of the headers Envoy or this
 * service reserve for themselves.
 */
public record CheckHeaders(String subjectHeader, String usernameHeader, String rolesHeader,
    boolean removeAuthorization, String realm) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");
  /** Realms go in a quoted-string: printable ASCII without quotes or backslashes. */
  private static final Pattern REALM = Pattern.compile("[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]{1,128}");
  private static final Set<String> RESERVED = Set.of("authorization", "host", "cookie", "content-length",
      "content-type", "transfer-encoding", "connection", "te", "upgrade", "x-forwarded-for", "x-request-id",
      "x-envoy-auth-failure-mode-allowed", CheckResponses.FAILURE_HEADER);

  public CheckHeaders {
    subjectHeader = name("AUTH_EXT_AUTHZ_SUBJECT_HEADER", subjectHeader);
    usernameHeader = name("AUTH_EXT_AUTHZ_USERNAME_HEADER", usernameHeader);
    rolesHeader = name("AUTH_EXT_AUTHZ_ROLES_HEADER", rolesHeader);
    if (Set.of(subjectHeader, usernameHeader, rolesHeader).size() < 3) {
      throw new IllegalArgumentException("AUTH_EXT_AUTHZ_SUBJECT_HEADER, _USERNAME_HEADER and _ROLES_HEADER must"
          + " be three different names");
    }
    if (!REALM.matcher(realm).matches()) {
      throw new IllegalArgumentException("AUTH_EXT_AUTHZ_REALM must be 1 to 128 printable ASCII characters without"
          + " quotes or backslashes");
    }
  }

  private static String name(String setting, String value) {
    String lower = value.trim().toLowerCase(Locale.ROOT);
    if (!NAME.matcher(lower).matches() || RESERVED.contains(lower) || lower.startsWith("x-envoy-")) {
      throw new IllegalArgumentException(setting + " must be an HTTP header name (letters, digits and '-', at most"
          + " 64) that is not one HTTP, Envoy or this service use themselves; got '" + value + "'");
    }
    return lower;
  }
}
