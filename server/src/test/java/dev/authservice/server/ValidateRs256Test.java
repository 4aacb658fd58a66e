package dev.authservice.server;

import dev.authservice.server.token.SigningAlgorithm;

class ValidateRs256Test extends ValidateTest {
  @Override
  SigningAlgorithm algorithm() {
    return SigningAlgorithm.RS256;
  }
}
