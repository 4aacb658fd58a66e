package dev.authservice.server.routes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules of a routes file: which roles a request needs, by path prefix and method.
 *
 * <p>The format, one rule a line; blank lines and lines starting with {@code #} are ignored:
 * <pre>
 * PREFIX  [METHODS]  ROLES
 * /admin/              admin
 * /billing/  GET,HEAD  billing-read,billing-admin
 * /billing/  *         billing-admin
 * /          *         *
 * </pre>
 * {@code PREFIX} starts with {@code /} and is in normal form (no {@code //}, {@code .} or {@code ..}
 * segment, no {@code %}, {@code ?}, {@code #} or backslash). {@code METHODS} is {@code *} (the
 * default) or a comma-separated list of upper-case method names. {@code ROLES} is {@code *} (any
 * active token) or a comma-separated list of roles, any one of which suffices.
 *
 * <p>The decision: the longest prefix that covers the path (see {@link RouteRule#covers}) picks the
 * rules; of those, the one naming the method, else the {@code *} one; if neither, the request
 * matches nothing. A request matching nothing is refused: a file lists what is allowed. The same
 * prefix with overlapping methods twice is an error, as is any line that does not parse.
 */
public final class RouteRules {
  /** What a file may hold at most: a routes file is written by hand. */
  public static final int MAX_RULES = 10_000;
  static final int MAX_PREFIX_LENGTH = 1024;
  private static final Pattern METHOD = Pattern.compile("[A-Z][A-Z_-]{0,31}");
  /** The role names accounts may have (UserService). */
  private static final Pattern ROLE = Pattern.compile("[a-z][a-z0-9_-]{0,63}");
  private static final Pattern PREFIX = Pattern.compile("/[!$&'()*+,;=:@A-Za-z0-9._~/-]*");

  /** Rules by prefix, longest prefix first. */
  private final List<Map.Entry<String, List<RouteRule>>> byPrefix;
  private final int size;

  private RouteRules(Map<String, List<RouteRule>> rules, int size) {
    this.byPrefix = rules.entrySet().stream()
        .sorted(Comparator.comparing((Map.Entry<String, List<RouteRule>> e) -> e.getKey().length()).reversed())
        .map(e -> Map.entry(e.getKey(), List.copyOf(e.getValue())))
        .toList();
    this.size = size;
  }

  /** Thrown for a file that does not parse: the line and what is wrong with it. */
  public static final class InvalidRules extends IllegalArgumentException {
    public InvalidRules(String message) {
      super(message);
    }
  }

  public static RouteRules parse(String text) {
    Map<String, List<RouteRule>> rules = new HashMap<>();
    int count = 0;
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      int number = i + 1;
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      if (++count > MAX_RULES) {
        throw new InvalidRules("more than " + MAX_RULES + " rules");
      }
      RouteRule rule = rule(line.split("\\s+"), number);
      List<RouteRule> samePrefix = rules.computeIfAbsent(rule.prefix(), p -> new ArrayList<>());
      for (RouteRule earlier : samePrefix) {
        if (earlier.anyMethod() == rule.anyMethod() && (rule.anyMethod()
            || earlier.methods().stream().anyMatch(rule.methods()::contains))) {
          throw new InvalidRules("line " + number + ": " + rule.prefix() + " with these methods is already a rule,"
              + " on line " + earlier.line());
        }
      }
      samePrefix.add(rule);
    }
    return new RouteRules(rules, count);
  }

  private static RouteRule rule(String[] fields, int line) {
    if (fields.length < 2 || fields.length > 3) {
      throw new InvalidRules("line " + line + ": expected PREFIX [METHODS] ROLES, found " + fields.length
          + " fields");
    }
    String prefix = fields[0];
    if (prefix.length() > MAX_PREFIX_LENGTH || !PREFIX.matcher(prefix).matches()
        || !RequestPath.hasOnlyPlainSegments(prefix)) {
      throw new InvalidRules("line " + line + ": the prefix must start with / and be a path in normal form"
          + " (no //, . or .. segment, no %, ?, # or backslash), at most " + MAX_PREFIX_LENGTH + " characters");
    }
    Set<String> methods = fields.length == 3 ? names(fields[1], METHOD, "method", line) : Set.of();
    Set<String> roles = names(fields[fields.length - 1], ROLE, "role", line);
    return new RouteRule(prefix, methods, roles, line);
  }

  /** {@code *} (empty: any) or a comma-separated list of names. */
  private static Set<String> names(String field, Pattern valid, String what, int line) {
    if (field.equals("*")) {
      return Set.of();
    }
    Set<String> names = new LinkedHashSet<>(Arrays.asList(field.split(",", -1)));
    for (String name : names) {
      if (!valid.matcher(name).matches()) {
        throw new InvalidRules("line " + line + ": '" + printable(name) + "' is not a " + what + " name"
            + (what.equals("method") ? " (upper case, such as GET)" : " (lower case, such as billing-read)")
            + "; use * for any");
      }
    }
    return names;
  }

  private static String printable(String text) {
    String cut = text.length() > 40 ? text.substring(0, 40) + "…" : text;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }

  /** The rule deciding this request; empty when no rule admits it. {@code path} must be normalised. */
  public Optional<RouteRule> match(String method, String path) {
    for (Map.Entry<String, List<RouteRule>> entry : byPrefix) {
      List<RouteRule> rules = entry.getValue();
      if (!rules.get(0).covers(path)) {
        continue;
      }
      Optional<RouteRule> named = rules.stream().filter(r -> r.methods().contains(method)).findFirst();
      // the longest covering prefix decides alone: a method it does not list is not passed on to shorter ones
      return named.or(() -> rules.stream().filter(RouteRule::anyMethod).findFirst());
    }
    return Optional.empty();
  }

  /** How many rules: for the log line saying what was loaded. */
  public int size() {
    return size;
  }
}
