package dev.authservice.server.routes;

import java.util.Optional;

/**
 * The path of a request in the one form route prefixes are compared with, or nothing when it has no
 * single meaning. A prefix rule is only as good as the path it is compared with: {@code
 * /public/../admin/x}, {@code //admin/x} or {@code /admin%2Fx} may reach {@code /admin/} at the
 * upstream while not starting with it here. Envoy normalises paths when told to (see
 * deploy/envoy/envoy.yaml); this refuses what is left rather than guessing how the upstream reads
 * it:
 * <ul>
 *   <li>the query and fragment are cut off;</li>
 *   <li>a percent-encoded unreserved character (RFC 3986 §2.3: letters, digits, {@code -._~}) is
 *       decoded, as RFC 3986 §6.2.2.2 makes it equivalent ({@code /%61dmin} is {@code /admin});
 *       other encodings stay as they are, hex in upper case;</li>
 *   <li>refused: an encoded {@code /} or {@code \}, a bad percent sequence, a backslash, a
 *       control, space or non-ASCII character, an empty segment ({@code //}), a {@code .} or
 *       {@code ..} segment (also once decoded), a target not starting with {@code /}, and a
 *       {@code ;}, raw or encoded: Servlet containers (Tomcat, Jetty, Spring) strip {@code ;}
 *       path parameters, so {@code /admin;x/users} and {@code /public/..;/admin} reach
 *       {@code /admin/...} there while no {@code /admin/} rule sees them here.</li>
 * </ul>
 * Prefixes are compared case-sensitively: an upstream that reads paths without regard to case
 * needs its routes listed in every case it answers, or a gateway that lower-cases paths.
 */
public final class RequestPath {
  private static final String UNRESERVED_MARKS = "-._~";

  private RequestPath() {}

  public static Optional<String> normalized(String target) {
    int end = target.length();
    int query = target.indexOf('?');
    if (query >= 0) {
      end = query;
    }
    int fragment = target.indexOf('#');
    if (fragment >= 0 && fragment < end) {
      end = fragment;
    }
    String raw = target.substring(0, end);
    if (!raw.startsWith("/")) {
      return Optional.empty();
    }
    StringBuilder path = new StringBuilder(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        if (i + 2 >= raw.length()) {
          return Optional.empty();
        }
        int high = hex(raw.charAt(i + 1));
        int low = hex(raw.charAt(i + 2));
        if (high < 0 || low < 0) {
          return Optional.empty();
        }
        char decoded = (char) (high * 16 + low);
        if (decoded == '/' || decoded == '\\' || decoded == ';') {
          return Optional.empty();
        }
        if (isUnreserved(decoded)) {
          path.append(decoded);
        } else {
          path.append('%').append(Character.toUpperCase(raw.charAt(i + 1)))
              .append(Character.toUpperCase(raw.charAt(i + 2)));
        }
        i += 2;
      } else if (c <= 0x20 || c >= 0x7f || c == '\\' || c == ';') {
        return Optional.empty();
      } else {
        path.append(c);
      }
    }
    String normal = path.toString();
    return hasOnlyPlainSegments(normal) ? Optional.of(normal) : Optional.empty();
  }

  /** No empty, {@code .} or {@code ..} segment; a single trailing slash is fine. */
  static boolean hasOnlyPlainSegments(String path) {
    if (path.equals("/")) {
      return true;
    }
    String[] segments = path.substring(1).split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      String segment = segments[i];
      boolean last = i == segments.length - 1;
      if ((segment.isEmpty() && !last) || segment.equals(".") || segment.equals("..")) {
        return false;
      }
    }
    return true;
  }

  /** An ASCII hex digit's value, or -1 (Character.digit would take other scripts' digits too). */
  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
        || UNRESERVED_MARKS.indexOf(c) >= 0;
  }
}
