package dev.authservice.server.token;

import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.SignatureAlgorithm;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;

/**
 * The JWS algorithms a signing key may have. Each key has exactly one (RFC 8725 §3.1), fixed
 * when it is generated; the default is chosen by measured verify cost (see the README).
 */
public enum SigningAlgorithm {
  RS256("RSA", Jwts.SIG.RS256),
  ES256("EC", Jwts.SIG.ES256),
  EdDSA("Ed25519", Jwts.SIG.EdDSA);

  private final String keyFactoryAlgorithm;
  private final SignatureAlgorithm jws;

  SigningAlgorithm(String keyFactoryAlgorithm, SignatureAlgorithm jws) {
    this.keyFactoryAlgorithm = keyFactoryAlgorithm;
    this.jws = jws;
  }

  /** The JWS {@code alg} header value. */
  public String jwsName() {
    return name();
  }

  SignatureAlgorithm jws() {
    return jws;
  }

  public KeyFactory keyFactory() throws GeneralSecurityException {
    return KeyFactory.getInstance(keyFactoryAlgorithm);
  }

  KeyPair generate(SecureRandom random) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(keyFactoryAlgorithm);
    switch (this) {
      case RS256 -> generator.initialize(2048, random);
      case ES256 -> generator.initialize(new ECGenParameterSpec("secp256r1"), random);
      case EdDSA -> { }
    }
    return generator.generateKeyPair();
  }

  /** Parses a configured or stored name; the JWS names are case-sensitive. */
  public static SigningAlgorithm fromJwsName(String name) {
    return Arrays.stream(values()).filter(a -> a.jwsName().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(
            "unsupported signing algorithm '" + name + "'; use one of " + Arrays.toString(values())));
  }
}
