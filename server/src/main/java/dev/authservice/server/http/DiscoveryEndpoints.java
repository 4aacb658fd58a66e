package dev.authservice.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.authservice.server.keys.JwkSet;
import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKey;
import dev.authservice.server.keys.SigningKeys;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * What a verifier needs to check tokens locally: the JWK Set (the keys GetJwks returns) at
 * {@code /.well-known/jwks.json}, and the issuer's metadata that points to it (RFC 8414
 * {@code /.well-known/oauth-authorization-server}, and the same at
 * {@code /.well-known/openid-configuration} for clients that only look there).
 *
 * <p>Every URL in them is built from the configured public base URL, never from the request's
 * {@code Host} header: a forged header must not put another {@code jwks_uri} into a cached copy.
 */
public final class DiscoveryEndpoints {
  public static final String JWKS = "/.well-known/jwks.json";
  public static final String AUTHORIZATION_SERVER = "/.well-known/oauth-authorization-server";
  public static final String OPENID_CONFIGURATION = "/.well-known/openid-configuration";

  private final JwkSet jwks;
  private final SigningKeys keys;
  private final String issuer;
  private final URI publicBase;
  private final Duration maxAge;
  private final ObjectMapper json = new ObjectMapper();
  private volatile Rendered rendered = new Rendered(List.of(), "");

  private record Rendered(List<String> kids, String json) {}

  /**
   * @param publicBase the scheme, host, port and optional path prefix clients reach this listener by
   * @param maxAge how long caches may keep the documents (see docs/observability.md for the choice)
   */
  public DiscoveryEndpoints(JwkSet jwks, SigningKeys keys, String issuer, URI publicBase, Duration maxAge) {
    this.jwks = jwks;
    this.keys = keys;
    this.issuer = issuer;
    this.publicBase = publicBase;
    this.maxAge = maxAge;
  }

  /** {@code jwks_uri}: the JWK Set under the public base URL. */
  public URI jwksUri() {
    return URI.create(stripSlash(publicBase.toString()) + JWKS);
  }

  /**
   * The exact paths served. Besides the root forms, the forms a discovery client derives from an
   * issuer URL with a path ({@code <path>/.well-known/openid-configuration} and RFC 8414's
   * {@code /.well-known/oauth-authorization-server<path>}), and the JWK Set under the base URL's
   * path, for a proxy that forwards a prefix without stripping it.
   */
  public Map<String, Supplier<HttpResponse>> routes() {
    Map<String, Supplier<HttpResponse>> routes = new LinkedHashMap<>();
    Supplier<HttpResponse> keySet = () -> HttpResponse.json(jwkSetJson(), maxAge);
    Supplier<HttpResponse> rfc8414 = () -> HttpResponse.json(authorizationServerMetadata(), maxAge);
    Supplier<HttpResponse> openId = () -> HttpResponse.json(openIdConfiguration(), maxAge);
    for (String prefix : new TreeSet<>(List.of("", pathOf(publicBase.toString()), pathOf(issuer)))) {
      routes.put(prefix + JWKS, keySet);
      routes.put(prefix + OPENID_CONFIGURATION, openId);
      routes.put(AUTHORIZATION_SERVER + prefix, rfc8414);
    }
    return routes;
  }

  /** The published keys; rendered again only when the set changes. */
  String jwkSetJson() {
    List<String> kids = keys.verificationKeys().stream().map(SigningKey::kid).toList();
    Rendered current = rendered;
    if (!current.kids().equals(kids)) {
      current = new Rendered(kids, jwks.json());
      rendered = current;
    }
    return current.json();
  }

  /**
   * RFC 8414: {@code issuer} and {@code jwks_uri}. {@code response_types_supported} is required
   * there and empty here: there is no authorization endpoint. There is no OAuth token endpoint
   * (tokens come from the Login RPC), so no {@code token_endpoint_auth_*}. RFC 8414 names no member
   * for the algorithms that sign access tokens; this document carries the OpenID one,
   * {@code id_token_signing_alg_values_supported} (RFC 8414 §2 allows further members), so that a
   * client reading either document learns which algorithms to accept.
   */
  String authorizationServerMetadata() {
    return base().toString();
  }

  /**
   * The same, plus the OpenID Discovery members that mean something for these tokens:
   * {@code subject_types_supported: ["public"]} ({@code sub} is the user's one id for every
   * audience) and {@code id_token_signing_alg_values_supported}, the algorithms of the keys that
   * sign or may sign: no ID tokens are issued, but clients such as go-oidc take this list as the
   * algorithms to accept from the issuer, and assume RS256 alone without it.
   */
  String openIdConfiguration() {
    ObjectNode doc = base();
    doc.putArray("subject_types_supported").add("public");
    return doc.toString();
  }

  private ObjectNode base() {
    ObjectNode doc = json.createObjectNode();
    doc.put("issuer", issuer);
    doc.put("jwks_uri", jwksUri().toString());
    doc.putArray("response_types_supported");
    var algorithms = doc.putArray("id_token_signing_alg_values_supported");
    signingAlgorithms().forEach(algorithms::add);
    return doc;
  }

  /** The algorithms of the published keys and of the keys to come, in a stable order. */
  private TreeSet<String> signingAlgorithms() {
    TreeSet<String> algorithms = new TreeSet<>();
    algorithms.add(keys.configuredAlgorithm().jwsName());
    keys.verificationKeys().stream().map(SigningKey::algorithm).map(SigningAlgorithm::jwsName)
        .forEach(algorithms::add);
    return algorithms;
  }

  /** The path of a URL without its trailing slash ("" for none, or for a value that is no URL). */
  static String pathOf(String value) {
    if (!value.startsWith("https://") && !value.startsWith("http://")) {
      return "";
    }
    try {
      String path = URI.create(value).getRawPath();
      return path == null ? "" : stripSlash(path);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
