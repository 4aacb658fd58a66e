package dev.authservice.server;

import dev.authservice.server.keys.SigningAlgorithm;

class ValidateEs256Test extends ValidateTest {
  @Override
  SigningAlgorithm algorithm() {
    return SigningAlgorithm.ES256;
  }
}
