package dev.authservice.integrity;

import io.jsonwebtoken.JwtException;
import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.Jwk;
import io.jsonwebtoken.security.JwkSet;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Checkpoint signatures: a JWS (RFC 7515, compact) whose payload is the checkpoint's canonical
 * encoding, signed with an audit signing key ({@code EdDSA}, Ed25519) and naming it by
 * {@code kid}, with {@code cty} {@value #CONTENT_TYPE}. Verifying needs only the audit keys'
 * public JWK Set.
 */
public final class CheckpointSignatures {
  /** The JWS {@code cty} of a checkpoint ("application/" is implied, RFC 7515 §4.1.10). */
  public static final String CONTENT_TYPE = "auth-audit-checkpoint+json";

  private final Map<String, PublicKey> keysById;

  private CheckpointSignatures(Map<String, PublicKey> keysById) {
    this.keysById = Map.copyOf(keysById);
  }

  /** Verification keys from an RFC 7517 JWK Set, as GetAuditKeys returns it. */
  public static CheckpointSignatures fromJwkSet(String jwkSetJson) {
    JwkSet set = Jwks.setParser().build().parse(jwkSetJson);
    Map<String, PublicKey> keys = new HashMap<>();
    for (Jwk<?> jwk : set) {
      if (jwk instanceof PublicJwk<?> publicJwk && jwk.getId() != null) {
        keys.put(jwk.getId(), publicJwk.toKey());
      }
    }
    return new CheckpointSignatures(keys);
  }

  public static CheckpointSignatures of(Map<String, PublicKey> keysById) {
    return new CheckpointSignatures(keysById);
  }

  public static String sign(Checkpoint checkpoint, PrivateKey key, String kid) {
    return Jwts.builder().header().keyId(kid).and()
        // a content type, or the JSON payload would be read as JWT claims
        .content(checkpoint.payload(), CONTENT_TYPE)
        .signWith(key, Jwts.SIG.EdDSA)
        .compact();
  }

  /** Empty when the signature is good and signs exactly this checkpoint; else why not. */
  public Optional<String> problem(Checkpoint checkpoint) {
    if (checkpoint.signature() == null || checkpoint.signature().isEmpty()) {
      return Optional.of("it is not signed");
    }
    byte[] signed;
    try {
      signed = Jwts.parser()
          .keyLocator(header -> locate(header instanceof io.jsonwebtoken.ProtectedHeader p ? p.getKeyId() : null))
          .sig().clear().add(Jwts.SIG.EdDSA).and()
          .build().parseSignedContent(checkpoint.signature()).getPayload();
    } catch (UnknownKey e) {
      return Optional.of("it is signed with a key that is not an audit key (kid " + e.kid + ")");
    } catch (JwtException | IllegalArgumentException e) {
      return Optional.of("its signature does not verify");
    }
    if (!Arrays.equals(signed, checkpoint.payload())) {
      return Optional.of("its content differs from what was signed");
    }
    return Optional.empty();
  }

  private Key locate(String kid) {
    PublicKey key = kid == null ? null : keysById.get(kid);
    if (key == null) {
      throw new UnknownKey(kid);
    }
    return key;
  }

  private static final class UnknownKey extends RuntimeException {
    final String kid;

    UnknownKey(String kid) {
      super("unknown audit key " + kid, null, false, false);
      this.kid = kid;
    }
  }
}
