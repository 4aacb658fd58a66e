package dev.authservice.server.keys;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import org.junit.jupiter.api.Test;

/** A stored public key must be the one its private key was made with, whatever the algorithm. */
class SigningAlgorithmPairTest {
  private final SecureRandom random = new SecureRandom();

  @Test
  void eachAlgorithmKnowsItsOwnPairAndRefusesAnotherPublicKey() throws Exception {
    for (SigningAlgorithm algorithm : SigningAlgorithm.values()) {
      KeyPair pair = algorithm.generate(random);
      KeyPair other = algorithm.generate(random);
      assertTrue(algorithm.isPair(pair.getPrivate(), pair.getPublic()), algorithm.name());
      assertFalse(algorithm.isPair(pair.getPrivate(), other.getPublic()), algorithm + ": another key's public key");
    }
  }

  @Test
  void anRsaPublicKeyWithTheSameModulusButAnotherExponentIsNotThePair() throws Exception {
    KeyPair pair = SigningAlgorithm.RS256.generate(random);
    RSAPublicKey stated = (RSAPublicKey) pair.getPublic();
    RSAPublicKey otherExponent = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(
        new RSAPublicKeySpec(stated.getModulus(), BigInteger.valueOf(3)));
    assertFalse(SigningAlgorithm.RS256.isPair(pair.getPrivate(), otherExponent));
  }

  @Test
  void anRsaPrivateKeyWithARealKeysPublicHalfButOtherSigningPartsIsNotThePair() throws Exception {
    // a plaintext key (a dev run's) is not sealed: whoever writes the store could pair a real key's
    // n and e with parts of their own
    KeyPair pair = SigningAlgorithm.RS256.generate(random);
    RSAPrivateCrtKey real = (RSAPrivateCrtKey) pair.getPrivate();
    KeyFactory rsa = KeyFactory.getInstance("RSA");
    RSAPrivateCrtKey junkExponent = (RSAPrivateCrtKey) rsa.generatePrivate(new RSAPrivateCrtKeySpec(real.getModulus(),
        real.getPublicExponent(), real.getPrivateExponent(), real.getPrimeP(), real.getPrimeQ(),
        real.getPrimeExponentP().add(BigInteger.ONE), real.getPrimeExponentQ(), real.getCrtCoefficient()));
    assertFalse(SigningAlgorithm.RS256.isPair(junkExponent, pair.getPublic()), "dP");
    RSAPrivateCrtKey junkCoefficient = (RSAPrivateCrtKey) rsa.generatePrivate(new RSAPrivateCrtKeySpec(
        real.getModulus(), real.getPublicExponent(), real.getPrivateExponent(), real.getPrimeP(), real.getPrimeQ(),
        real.getPrimeExponentP(), real.getPrimeExponentQ(), real.getCrtCoefficient().add(BigInteger.ONE)));
    assertFalse(SigningAlgorithm.RS256.isPair(junkCoefficient, pair.getPublic()), "qInv");
    RSAPrivateCrtKey otherPrimes = (RSAPrivateCrtKey) rsa.generatePrivate(new RSAPrivateCrtKeySpec(real.getModulus(),
        real.getPublicExponent(), real.getPrivateExponent(), BigInteger.ONE, real.getModulus(),
        real.getPrimeExponentP(), real.getPrimeExponentQ(), real.getCrtCoefficient()));
    assertFalse(SigningAlgorithm.RS256.isPair(otherPrimes, pair.getPublic()), "p = 1, q = n");
  }

  @Test
  void aPublicKeyOfAnotherTypeIsNotThePair() throws Exception {
    KeyPair rsa = SigningAlgorithm.RS256.generate(random);
    KeyPair ec = SigningAlgorithm.ES256.generate(random);
    assertFalse(SigningAlgorithm.RS256.isPair(rsa.getPrivate(), ec.getPublic()));
    assertFalse(SigningAlgorithm.ES256.isPair(ec.getPrivate(), rsa.getPublic()));
    assertFalse(SigningAlgorithm.ES256.isPair(rsa.getPrivate(), rsa.getPublic()), "an RSA pair is no ES256 pair");
  }
}
