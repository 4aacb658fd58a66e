package dev.authservice.server;

import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.keys.KeyEncryption;
import dev.authservice.server.keys.SigningKeyStore;
import java.time.Duration;
import java.util.Optional;

/** The signing key store of a test server's database, opened a second time, for tests of key logic. */
final class KeyStoreOnTestDatabase {
  private final TestServer server;

  KeyStoreOnTestDatabase(TestServer server) {
    this.server = server;
  }

  SigningKeyStore store() {
    MongoStorage storage = StorageBootstrap.open(server.config().mongoUri(), server.config().dataDir(),
        server.config().database(), Duration.ofSeconds(5), "test");
    return storage.signingKeys(KeyEncryption.of(Optional.empty(), true));
  }
}
