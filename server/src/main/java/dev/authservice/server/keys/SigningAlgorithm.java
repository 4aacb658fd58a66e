package dev.authservice.server.keys;

import io.jsonwebtoken.Jwts;
import io.jsonwebtoken.security.SignatureAlgorithm;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;

/**
 * The JWS algorithms a signing key may have. Each key has exactly one (RFC 8725 §3.1), fixed
 * when it is generated; the default is chosen by measured verify cost (see "Why RS256" in docs/tokens.md).
 */
public enum SigningAlgorithm {
  RS256("RSA", "SHA256withRSA", Jwts.SIG.RS256),
  ES256("EC", "SHA256withECDSA", Jwts.SIG.ES256),
  EdDSA("Ed25519", "Ed25519", Jwts.SIG.EdDSA);

  private static final byte[] PAIR_CHALLENGE = "does this private key belong to this public key?"
      .getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final String keyFactoryAlgorithm;
  private final String jcaSignature;
  private final SignatureAlgorithm jws;

  SigningAlgorithm(String keyFactoryAlgorithm, String jcaSignature, SignatureAlgorithm jws) {
    this.keyFactoryAlgorithm = keyFactoryAlgorithm;
    this.jcaSignature = jcaSignature;
    this.jws = jws;
  }

  /** The JWS {@code alg} header value. */
  public String jwsName() {
    return name();
  }

  public SignatureAlgorithm jws() {
    return jws;
  }

  public KeyFactory keyFactory() throws GeneralSecurityException {
    return KeyFactory.getInstance(keyFactoryAlgorithm);
  }

  /**
   * Whether the two keys are one pair of this algorithm: what the private key signs, the public
   * key verifies. A stored public key is not covered by the private key's encryption, so this
   * is what stops a document whose public key was swapped for someone else's.
   */
  public boolean isPair(PrivateKey privateKey, PublicKey publicKey) {
    if (this == RS256 && privateKey instanceof RSAPrivateCrtKey rsa && publicKey instanceof RSAPublicKey stated) {
      // an RSA private key holds its public half (n, e): that half equal to the stored public key,
      // and the parts it signs with belonging to that half, answer the same question as a
      // signature, without the 20-50 ms a cold JVM's first RSA signature costs every start
      return rsa.getModulus().equals(stated.getModulus())
          && rsa.getPublicExponent().equals(stated.getPublicExponent()) && signsForItsPublicHalf(rsa);
    }
    try {
      Signature signer = Signature.getInstance(jcaSignature);
      signer.initSign(privateKey);
      signer.update(PAIR_CHALLENGE);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(jcaSignature);
      verifier.initVerify(publicKey);
      verifier.update(PAIR_CHALLENGE);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      // a key of another type, or one a provider refuses: not a pair we can use
      return false;
    }
  }

  /**
   * Whether the CRT parts an RSA private key signs with belong to its (n, e): p·q = n, and dP, dQ and
   * qInv the inverses they must be. Only multiplications, no exponentiation. A plaintext key (a dev
   * run's) is not sealed, so whoever writes the store could pair a real key's n and e with other parts.
   */
  private static boolean signsForItsPublicHalf(RSAPrivateCrtKey key) {
    BigInteger p = key.getPrimeP();
    BigInteger q = key.getPrimeQ();
    BigInteger e = key.getPublicExponent();
    if (p == null || q == null || e == null || key.getPrimeExponentP() == null || key.getPrimeExponentQ() == null
        || key.getCrtCoefficient() == null || p.compareTo(BigInteger.ONE) <= 0 || q.compareTo(BigInteger.ONE) <= 0) {
      return false;
    }
    BigInteger pMinus1 = p.subtract(BigInteger.ONE);
    BigInteger qMinus1 = q.subtract(BigInteger.ONE);
    return p.multiply(q).equals(key.getModulus())
        && e.multiply(key.getPrimeExponentP()).mod(pMinus1).equals(BigInteger.ONE.mod(pMinus1))
        && e.multiply(key.getPrimeExponentQ()).mod(qMinus1).equals(BigInteger.ONE.mod(qMinus1))
        && key.getCrtCoefficient().multiply(q).mod(p).equals(BigInteger.ONE);
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
