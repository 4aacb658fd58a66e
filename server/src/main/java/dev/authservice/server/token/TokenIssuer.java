package dev.authservice.server.token;

import dev.authservice.server.keys.SigningKey;
import dev.authservice.server.keys.SigningKeys;

import dev.authservice.server.user.User;
import io.jsonwebtoken.Jwts;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.UUID;

/** Signs RFC 9068 access tokens ({@code typ: at+jwt}) with the current signing key. */
public final class TokenIssuer {
  public static final String TOKEN_TYPE = "at+jwt";

  private final SigningKeys keys;
  private final Clock clock;
  private final String issuer;
  private final String clientId;
  private final Duration ttl;

  public TokenIssuer(SigningKeys keys, Clock clock, String issuer, String clientId, Duration ttl) {
    this.keys = keys;
    this.clock = clock;
    this.issuer = issuer;
    this.clientId = clientId;
    this.ttl = ttl;
  }

  /**
   * Signs an access token for the user. {@code sessionId} names the refresh-token family the
   * token belongs to (claim {@code sid}), so that ending the family also ends its access tokens.
   */
  public IssuedToken issue(User user, String audience, String sessionId) {
    SigningKey key = keys.current();
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expires = now.plus(ttl);
    String jti = UUID.randomUUID().toString();
    String token = Jwts.builder()
        .header().keyId(key.kid()).type(TOKEN_TYPE).and()
        .issuer(issuer)
        .subject(user.subject())
        .audience().add(audience).and()
        .issuedAt(Date.from(now))
        .notBefore(Date.from(now))
        .expiration(Date.from(expires))
        .id(jti)
        .claim("client_id", clientId)
        .claim("username", user.username())
        .claim("roles", user.roles())
        .claim("sid", sessionId)
        .signWith(key.privateKey(), key.algorithm().jws())
        .compact();
    return new IssuedToken(token, jti, now, expires);
  }
}
