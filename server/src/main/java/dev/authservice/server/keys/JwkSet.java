package dev.authservice.server.keys;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jsonwebtoken.security.Jwks;
import io.jsonwebtoken.security.PublicJwk;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Renders the verification keys as an RFC 7517 JWK Set, each with {@code kid}, {@code alg} and {@code use: sig}. */
public final class JwkSet {
  private final SigningKeys keys;
  private final ObjectMapper json = new ObjectMapper();

  public JwkSet(SigningKeys keys) {
    this.keys = keys;
  }

  public String json() {
    ObjectNode set = json.createObjectNode();
    ArrayNode array = set.putArray("keys");
    for (SigningKey key : keys.verificationKeys()) {
      PublicJwk<?> jwk = Jwks.builder().key(key.publicKey()).id(key.kid())
          .algorithm(key.algorithm().jwsName()).publicKeyUse("sig").build();
      try {
        array.add(json.readTree(Jwks.json(jwk)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return set.toString();
  }
}
