package dev.authservice.server.usecase;

import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.write.ValidationRollup;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.routes.RequestPath;
import dev.authservice.server.routes.RouteRule;
import dev.authservice.server.routes.RouteRules;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.ValidationFailure;
import dev.authservice.server.token.Verification;
import dev.authservice.server.token.VerifiedToken;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Envoy's external authorization (ext_authz) as a capability: may this HTTP request pass? The
 * bearer token in its {@code Authorization} header (or, without one, in the cookie
 * {@code AUTH_EXT_AUTHZ_TOKEN_COOKIE} names: {@link TokenCookie}) is verified exactly as Validate verifies one
 * (the same {@link TokenVerifier}: signature, lifetime, issuer, audience, revocations, the
 * verified-token cache) and recorded by the same rules ({@link ValidationEvents}: one
 * {@code TOKEN_VALIDATE} event per check, rolled up like Validate's); then the routes file, if
 * there is one, says which roles the path and method need.
 *
 * <p>A denial is an answer, never an exception: Envoy turns it into the HTTP response. Exceptions
 * are for our own failures only (the audit trail cannot take the event, the key set cannot be
 * reloaded), which Envoy must see as errors so that its {@code failure_mode_allow} decides.
 *
 * <p>Unlike Validate, answers about inactive tokens are never slowed down
 * ({@code AUTH_VALIDATE_FAILURE_LIMIT}): Envoy waits for them with a timeout, and a timeout is an
 * error, which {@code failure_mode_allow: true} would let through.
 */
public final class ExternalAuthorization {

  /** The HTTP request Envoy asks about, as far as the decision needs it: names as sent, in any case. */
  public record HttpRequest(String method, String path, List<Header> headers) {
    public HttpRequest {
      headers = List.copyOf(headers);
    }
  }

  public record Header(String name, String value) {}

  /** Why a request is refused, and what HTTP says about it (RFC 6750 §3). */
  public enum Refusal {
    /** No bearer credentials: 401, a challenge without an error code. */
    NO_TOKEN,
    /** Credentials that cannot be read as one bearer token: 400 {@code invalid_request}. */
    INVALID_REQUEST,
    /** A path with no single meaning, so no rule can be chosen for it: 400, no challenge (not about the token). */
    BAD_PATH,
    /** A bearer token that is not active: 401 {@code invalid_token}. */
    INVALID_TOKEN,
    /** An active token without a role the route needs, or a route no rule admits: 403 {@code insufficient_scope}. */
    INSUFFICIENT_ROLE
  }

  /** The answer to one check. */
  public sealed interface Decision permits Allowed, Denied {}

  public record Allowed(VerifiedToken token) implements Decision {}

  /**
   * @param reason a short upper-case code for the response header and logs ({@code EXPIRED},
   *     {@code MISSING_ROLE}...): what went wrong, never anything from the token
   * @param description one sentence for a person, safe to show any client
   * @param roles the roles the route needs, for {@code INSUFFICIENT_ROLE} (empty otherwise)
   * @param message what a browser client may show its user: {@code Expired token} or {@code Invalid token}
   *     for an inactive token (an expired one is never called invalid, nor the opposite), {@code Missing
   *     token} without one, else the description
   */
  public record Denied(Refusal refusal, String reason, String description, List<String> roles, String message)
      implements Decision {
    public Denied {
      roles = List.copyOf(roles);
    }

    Denied(Refusal refusal, String reason, String description, List<String> roles) {
      this(refusal, reason, description, roles, description);
    }

    static Denied noToken(String description) {
      return new Denied(Refusal.NO_TOKEN, "MISSING_TOKEN", description, List.of(), "Missing token");
    }

    static Denied inactive(ValidationFailure failure) {
      return new Denied(Refusal.INVALID_TOKEN, failure.name(), describe(failure), List.of(),
          failure == ValidationFailure.EXPIRED ? "Expired token" : "Invalid token");
    }
  }

  private final TokenVerifier verifier;
  private final ValidationEvents events;
  private final String audience;
  private final Supplier<Optional<RouteRules>> routes;
  private final Optional<TokenCookie> tokenCookie;
  private final String noTokenDescription;

  /**
   * @param audience the audience tokens must carry; empty for the server's default one
   * @param routes the rules in force, read at each check (a reload swaps them); empty: any active token passes
   * @param tokenCookie the cookie holding the token when there is no {@code authorization} header; empty: none
   */
  public ExternalAuthorization(TokenVerifier verifier, AuditLog audit, Optional<ValidationRollup> rollup,
      String audience, Supplier<Optional<RouteRules>> routes, Optional<String> tokenCookie, UseCaseMetrics metrics) {
    this.verifier = verifier;
    this.events = new ValidationEvents(audit, rollup, metrics, UseCaseMetrics.Via.CHECK);
    this.audience = audience;
    this.routes = routes;
    this.tokenCookie = tokenCookie.map(TokenCookie::new);
    this.noTokenDescription = "this route needs an access token: send 'Authorization: Bearer <token>'"
        + tokenCookie.map(name -> " or the cookie " + name).orElse("");
  }

  /**
   * Decides one request; {@code http} is empty when Envoy sent no HTTP attributes (a network-level
   * check), which carries no token and is denied as such. {@code caller} is whom the audit event
   * names. Throws {@code UNAVAILABLE} (or the audit trail's own refusal) when we cannot decide.
   */
  public Decision check(Optional<HttpRequest> http, Caller caller) {
    List<String> authorization = http.map(ExternalAuthorization::authorizationValues).orElse(List.of());
    if (authorization.isEmpty()) {
      // the header wins: the cookie is read only without one, so a client never has two tokens read
      if (tokenCookie.isPresent() && http.isPresent()) {
        switch (tokenCookie.get().find(http.get().headers())) {
          case TokenCookie.Several several -> {
            // a browser sends the name twice for cookies of other paths or domains: which one the
            // upstream reads is its parser's choice, so we choose none
            events.refused(caller, "several_token_cookies");
            return new Denied(Refusal.INVALID_REQUEST, "SEVERAL_TOKEN_COOKIES",
                "send the access token cookie once; clear the other cookies of that name", List.of());
          }
          case TokenCookie.One one -> {
            if (!isToken68(one.value())) {
              events.refused(caller, "malformed_token_cookie");
              return Denied.inactive(ValidationFailure.MALFORMED);
            }
            return decide(one.value(), http, caller);
          }
          case TokenCookie.Absent absent -> { }
        }
      }
      events.refused(caller, "no_bearer_token");
      return Denied.noToken(noTokenDescription);
    }
    // several values (a repeated header, or one joined with commas, as Envoy joins repeated ones) are
    // refused rather than guessed at: the proxy in front and the upstream may each pick another one
    if (authorization.size() > 1 || authorization.get(0).indexOf(',') >= 0) {
      events.refused(caller, "several_authorization_values");
      return new Denied(Refusal.INVALID_REQUEST, "SEVERAL_AUTHORIZATION_VALUES",
          "send exactly one Authorization header holding one bearer token", List.of());
    }
    String value = authorization.get(0).strip();
    int space = firstWhitespace(value);
    String scheme = space < 0 ? value : value.substring(0, space);
    if (!scheme.equalsIgnoreCase("Bearer")) {
      // another scheme (Basic...) is no bearer token at all: RFC 6750 §3.1 asks for a plain challenge
      events.refused(caller, "no_bearer_token");
      return Denied.noToken(noTokenDescription);
    }
    String token = space < 0 ? "" : value.substring(space).strip();
    if (!isToken68(token)) {
      events.refused(caller, "malformed_authorization");
      return new Denied(Refusal.INVALID_REQUEST, "MALFORMED_AUTHORIZATION",
          "the Authorization header must be 'Bearer ' followed by one token", List.of());
    }
    return decide(token, http, caller);
  }

  /** Verifies a token of token68 syntax, then asks the routes file. */
  private Decision decide(String token, Optional<HttpRequest> http, Caller caller) {
    Verification verification = verifier.verify(token, audience);
    if (verification.undecided()) {
      events.refused(caller, "keys_unreachable");
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE,
          "the token names a signing key this instance does not hold and the store is unreachable to reload"
              + " the keys; retry shortly");
    }
    if (!verification.active()) {
      events.inactive(verification, caller);
      return Denied.inactive(verification.failure().orElseThrow());
    }
    VerifiedToken verified = verification.token().orElseThrow();
    Optional<RouteRules> rules = routes.get();
    if (rules.isPresent()) {
      Optional<Denied> refused = byRoute(rules.get(), http.orElseThrow(), verified, caller);
      if (refused.isPresent()) {
        return refused.get();
      }
    }
    events.active(verified, caller);
    return new Allowed(verified);
  }

  private Optional<Denied> byRoute(RouteRules rules, HttpRequest http, VerifiedToken token, Caller caller) {
    Optional<String> path = RequestPath.normalized(http.path());
    if (path.isEmpty()) {
      events.denied(token, caller, "unnormalized_path");
      return Optional.of(new Denied(Refusal.BAD_PATH, "UNNORMALIZED_PATH",
          "the path has an empty, '.' or '..' segment, an encoded slash or a character it may not have;"
              + " send it in normal form", List.of()));
    }
    Optional<RouteRule> rule = rules.match(http.method(), path.get());
    if (rule.isEmpty()) {
      events.denied(token, caller, "no_route_rule");
      return Optional.of(new Denied(Refusal.INSUFFICIENT_ROLE, "NO_ROUTE_RULE",
          "no rule admits this method on this path", List.of()));
    }
    if (!rule.get().roles().isEmpty() && !token.hasAnyRole(rule.get().roles())) {
      List<String> needed = rule.get().roles().stream().sorted().toList();
      events.denied(token, caller, "missing_role");
      return Optional.of(new Denied(Refusal.INSUFFICIENT_ROLE, "MISSING_ROLE",
          "this route needs one of the roles " + String.join(", ", needed), needed));
    }
    return Optional.empty();
  }

  /** Every value of every header named {@code authorization}, in any case. */
  private static List<String> authorizationValues(HttpRequest http) {
    return http.headers().stream().filter(h -> h.name().equalsIgnoreCase("authorization")).map(Header::value).toList();
  }

  private static int firstWhitespace(String value) {
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) == ' ' || value.charAt(i) == '\t') {
        return i;
      }
    }
    return -1;
  }

  /**
   * The {@code error_description}: which of the three cases it is, in words a client can act on
   * (expired: refresh; revoked: log in again; invalid: drop it). The exact failure is in
   * {@code x-auth-failure}.
   */
  private static String describe(ValidationFailure failure) {
    return switch (failure) {
      case EXPIRED -> "The access token expired";
      case REVOKED, USER_DISABLED -> "The access token was revoked";
      default -> "The access token is invalid";
    };
  }

  /**
   * token68 (RFC 7235 §2.1), the syntax of a bearer token (RFC 6750 §2.1): one or more of
   * {@code A-Z a-z 0-9 - . _ ~ + /}, then any number of {@code =}. A loop, not a regular expression:
   * it runs on every request, over the whole token (a character-class regex cost a tenth of Check).
   */
  static boolean isToken68(String token) {
    int i = 0;
    int n = token.length();
    while (i < n && isToken68Char(token.charAt(i))) {
      i++;
    }
    if (i == 0) {
      return false;
    }
    while (i < n && token.charAt(i) == '=') {
      i++;
    }
    return i == n;
  }

  private static boolean isToken68Char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  }
}
