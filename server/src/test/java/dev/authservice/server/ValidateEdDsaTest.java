package dev.authservice.server;

import dev.authservice.server.keys.SigningAlgorithm;

class ValidateEdDsaTest extends ValidateTest {
  @Override
  SigningAlgorithm algorithm() {
    return SigningAlgorithm.EdDSA;
  }
}
