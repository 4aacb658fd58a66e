package dev.authservice.server;

import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.keys.KeyEncryption;
import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKeys;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/** The trail's audit signer over a store, as a server makes it (EdDSA keys, unencrypted: tests only). */
final class TestAuditSigners {
  private TestAuditSigners() {}

  static AuditSigner on(MongoStorage storage, Clock clock) {
    SigningKeys keys = new SigningKeys(storage.auditSigningKeys(KeyEncryption.of(Optional.empty(), true)), clock,
        SigningAlgorithm.EdDSA, Duration.ZERO);
    keys.loadOrCreate();
    return new AuditSigner(keys);
  }
}
