package dev.authservice.server.token;

import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKey;
import dev.authservice.server.keys.SigningKeys;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsonwebtoken.Claims;
import io.jsonwebtoken.ExpiredJwtException;
import io.jsonwebtoken.JwtException;
import io.jsonwebtoken.JwtParser;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.PrematureJwtException;
import io.jsonwebtoken.jackson.io.JacksonDeserializer;
import io.jsonwebtoken.security.SignatureException;
import java.io.IOException;
import java.security.Key;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether an access token is active. The header is read first, by this class, so that
 * the token cannot choose the algorithm or the key: a {@code kid} from this server's own key set,
 * exactly that key's algorithm, and {@code typ: at+jwt}. Key-location headers
 * ({@code jku}, {@code x5u}, {@code jwk}) are never followed. Only then does jjwt verify the
 * signature and the lifetime; issuer and audience are compared here.
 */
public final class TokenVerifier {
  private static final Logger log = LoggerFactory.getLogger(TokenVerifier.class);

  public static final int MAX_TOKEN_LENGTH = 8 * 1024;
  private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]*");
  private static final Pattern KID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Set<String> ACCEPTED_TYPES = Set.of("at+jwt", "application/at+jwt");
  private static final Set<String> ASYMMETRIC_ALGORITHMS = java.util.Arrays.stream(SigningAlgorithm.values())
      .map(SigningAlgorithm::jwsName).collect(java.util.stream.Collectors.toUnmodifiableSet());

  private final SigningKeys keys;
  private final Revocations revocations;
  private final Clock clock;
  private final String issuer;
  private final String defaultAudience;
  private final Duration clockSkew;
  private final Duration maxLifetime;
  private final JwtParser parser;
  private final VerifiedTokenCache verified;
  private final ObjectMapper headerMapper;

  /**
   * @param tokenTtl the lifetime of the tokens this server issues; with the clock skew, the
   *     longest {@code exp - iat} a token may have
   */
  public TokenVerifier(SigningKeys keys, Revocations revocations, Clock clock, String issuer,
      String defaultAudience, Duration tokenTtl, Duration clockSkew) {
    this.keys = keys;
    this.revocations = revocations;
    this.clock = clock;
    this.issuer = issuer;
    this.defaultAudience = defaultAudience;
    this.clockSkew = clockSkew;
    this.maxLifetime = tokenTtl.plus(clockSkew);
    // headers and claims are small and flat; anything deep or huge is an attack, refused as malformed
    JsonFactory headerJson = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(8).maxStringLength(2048).maxNumberLength(32).build())
        .build();
    JsonFactory claimsJson = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(16).maxStringLength(4096).maxNumberLength(32).build())
        .build();
    this.headerMapper = new ObjectMapper(headerJson);
    this.verified = new VerifiedTokenCache(clock, VerifiedTokenCache.DEFAULT_CAPACITY);
    this.parser = Jwts.parser()
        .json(new JacksonDeserializer<>(new ObjectMapper(claimsJson)))
        .keyLocator(header -> locateKey(header.get("kid")))
        .clock(() -> Date.from(clock.instant()))
        .clockSkewSeconds(clockSkew.toSeconds())
        .build();
  }

  /** Verifies against the request's audience, or the server's default when it is empty. */
  public Verification verify(String token, String audience) {
    String expectedAudience = audience == null || audience.isEmpty() ? defaultAudience : audience;
    return verify(token, Optional.of(expectedAudience));
  }

  /**
   * Whether a token verified earlier (for the default audience) is still active now: unexpired,
   * not revoked, its user not disabled. For calls that outlive their start.
   */
  public Verification recheck(VerifiedToken token) {
    return checkNow(token, Optional.of(defaultAudience));
  }

  /**
   * Checks that the token is one of this server's, unexpired, for any audience, revoked or not:
   * what revoking it needs.
   */
  public Verification verifySignatureOnly(String token) {
    return verify(token, Optional.empty());
  }

  private Verification verify(String token, Optional<String> expectedAudience) {
    if (token.length() > MAX_TOKEN_LENGTH) {
      return Verification.failed(ValidationFailure.MALFORMED);
    }
    Optional<VerifiedTokenCache.Hit> cached = verified.get(token);
    if (cached.isPresent()) {
      if (keys.stillVerifies(cached.get().verifiedWith())) {
        return checkNow(cached.get().token(), expectedAudience);
      }
      // its key was retired, removed or found untrustworthy since: verify afresh, which fails
      verified.forget(token);
    }
    String[] parts = token.split("\\.", -1);
    if (token.length() > MAX_TOKEN_LENGTH || parts.length != 3 || parts[0].isEmpty()
        || parts[1].isEmpty() || !isBase64Url(parts)) {
      return Verification.failed(ValidationFailure.MALFORMED);
    }
    Optional<JsonNode> header = parseHeader(parts[0]);
    if (header.isEmpty()) {
      return Verification.failed(ValidationFailure.MALFORMED);
    }
    JsonNode alg = header.get().get("alg");
    if (alg == null || !alg.isTextual()) {
      return Verification.failed(ValidationFailure.MALFORMED);
    }
    if (!ASYMMETRIC_ALGORITHMS.contains(alg.textValue())) {
      return Verification.failed(ValidationFailure.UNSUPPORTED_ALGORITHM);
    }
    JsonNode typ = header.get().get("typ");
    if (typ == null || !typ.isTextual()
        || !ACCEPTED_TYPES.contains(typ.textValue().toLowerCase(Locale.ROOT))) {
      return Verification.failed(ValidationFailure.WRONG_TYPE);
    }
    JsonNode kid = header.get().get("kid");
    if (kid == null || !kid.isTextual() || !KID.matcher(kid.textValue()).matches()) {
      return Verification.failed(ValidationFailure.UNKNOWN_KEY);
    }
    SigningKeys.Lookup lookup = keys.lookup(kid.textValue());
    Optional<SigningKey> key = lookup.key();
    if (key.isEmpty()) {
      return lookup.undecided() ? Verification.keyUndecided() : Verification.failed(ValidationFailure.UNKNOWN_KEY);
    }
    // the key decides the algorithm, never the token (RFC 8725 §3.1)
    if (!key.get().algorithm().jwsName().equals(alg.textValue())) {
      return Verification.failed(ValidationFailure.UNSUPPORTED_ALGORITHM);
    }
    if (parts[2].isEmpty()) {
      return Verification.failed(ValidationFailure.BAD_SIGNATURE);
    }

    Claims claims;
    try {
      claims = parser.parseSignedClaims(token).getPayload();
    } catch (ExpiredJwtException e) {
      return Verification.failed(ValidationFailure.EXPIRED, e.getClaims().getId(),
          e.getClaims().getSubject());
    } catch (PrematureJwtException e) {
      return Verification.failed(ValidationFailure.NOT_YET_VALID, e.getClaims().getId(),
          e.getClaims().getSubject());
    } catch (SignatureException e) {
      return Verification.failed(ValidationFailure.BAD_SIGNATURE);
    } catch (JwtException | IllegalArgumentException | ClassCastException e) {
      log.debug("token rejected as malformed: {}", e.getClass().getSimpleName());
      return Verification.failed(ValidationFailure.MALFORMED);
    }
    Verification structure = structure(claims);
    if (!structure.active()) {
      return structure;
    }
    VerifiedToken signed = structure.token().orElseThrow();
    verified.put(token, signed, key.get(), signed.expiresAt().plus(clockSkew));
    return checkNow(signed, expectedAudience);
  }

  /**
   * The claims every token of ours has, or MISSING_CLAIM, and a lifetime no longer than ours, or
   * LIFETIME_TOO_LONG; nothing here depends on the time or the request.
   */
  private Verification structure(Claims claims) {
    String jti = claims.getId();
    String sub = claims.getSubject();
    Date exp = claims.getExpiration();
    Date iat = claims.getIssuedAt();
    Object username = claims.get("username");
    Optional<List<String>> roles = stringList(claims.get("roles"));
    Set<String> aud = claims.getAudience();
    if (isBlank(jti) || isBlank(sub) || exp == null || iat == null || aud == null
        || !(username instanceof String) || roles.isEmpty()) {
      return Verification.failed(ValidationFailure.MISSING_CLAIM, jti, sub);
    }
    if (Duration.between(iat.toInstant(), exp.toInstant()).compareTo(maxLifetime) > 0) {
      // no token of ours lives this long: whoever signed it holds our key but is not us
      return Verification.failed(ValidationFailure.LIFETIME_TOO_LONG, jti, sub);
    }
    Object sid = claims.get("sid");
    Date nbf = claims.getNotBefore();
    return Verification.active(new VerifiedToken(sub, (String) username, roles.get(), jti,
        claims.getIssuer() == null ? "" : claims.getIssuer(), List.copyOf(aud), iat.toInstant(), exp.toInstant(),
        sid instanceof String s ? s : "", nbf == null ? iat.toInstant() : nbf.toInstant()));
  }

  /** What must be checked on every call, cached or not: time, issuer, audience, revocation. */
  private Verification checkNow(VerifiedToken token, Optional<String> expectedAudience) {
    Instant now = clock.instant();
    if (!token.expiresAt().plus(clockSkew).isAfter(now)) {
      return Verification.failed(ValidationFailure.EXPIRED, token);
    }
    if (token.notBefore().minus(clockSkew).isAfter(now) || token.issuedAt().minus(clockSkew).isAfter(now)) {
      return Verification.failed(ValidationFailure.NOT_YET_VALID, token);
    }
    if (!issuer.equals(token.issuer())) {
      return Verification.failed(ValidationFailure.WRONG_ISSUER, token);
    }
    if (expectedAudience.isPresent() && !token.audience().contains(expectedAudience.get())) {
      return Verification.failed(ValidationFailure.WRONG_AUDIENCE, token);
    }
    Optional<ValidationFailure> revoked = expectedAudience.isPresent() ? revocations.check(token) : Optional.empty();
    if (revoked.isPresent()) {
      return Verification.failed(revoked.get(), token);
    }
    return Verification.active(token);
  }

  private Key locateKey(Object kid) {
    // The header was checked before parsing; a miss here means the key set changed meanwhile.
    return keys.byKid(String.valueOf(kid)).map(k -> (Key) k.publicKey())
        .orElseThrow(() -> new SignatureException("unknown key"));
  }

  private Optional<JsonNode> parseHeader(String encoded) {
    try {
      JsonNode node = headerMapper.readTree(Base64.getUrlDecoder().decode(encoded));
      return node != null && node.isObject() ? Optional.of(node) : Optional.empty();
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static boolean isBase64Url(String[] parts) {
    for (String part : parts) {
      if (part.length() % 4 == 1 || !BASE64URL.matcher(part).matches() || !canonicalTail(part)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The unused low bits of a segment's last character must be zero (RFC 4648 §3.5), so each
   * token has exactly one spelling: otherwise a changed last character of the signature would
   * still verify, as a different string.
   */
  private static boolean canonicalTail(String part) {
    int rest = part.length() % 4;
    if (rest == 0) {
      return true;
    }
    char last = part.charAt(part.length() - 1);
    int value = last >= 'A' && last <= 'Z' ? last - 'A' : last >= 'a' && last <= 'z' ? last - 'a' + 26
        : last >= '0' && last <= '9' ? last - '0' + 52 : last == '-' ? 62 : 63;
    int unusedBits = rest == 2 ? 0x0F : 0x03;
    return (value & unusedBits) == 0;
  }

  private static Optional<List<String>> stringList(Object value) {
    if (!(value instanceof List<?> list)) {
      return Optional.empty();
    }
    List<String> out = new ArrayList<>(list.size());
    for (Object item : list) {
      if (!(item instanceof String s)) {
        return Optional.empty();
      }
      out.add(s);
    }
    return Optional.of(out);
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}
