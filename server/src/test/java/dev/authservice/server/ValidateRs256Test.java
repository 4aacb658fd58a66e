package dev.authservice.server;

import dev.authservice.server.keys.SigningAlgorithm;

class ValidateRs256Test extends ValidateTest {
  @Override
  SigningAlgorithm algorithm() {
    return SigningAlgorithm.RS256;
  }
}
