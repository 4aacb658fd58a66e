package dev.authservice.server;

import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.keys.KeyEncryption;
import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKeys;
import dev.authservice.server.keys.StartupKeyCheck;
import dev.authservice.server.storage.mongo.MongoStorage;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The token signing keys and the audit checkpoint keys: checked, loaded (or made), and kept fresh.
 * The token keys load (on a first start: an RSA key is generated, 0.2 to 1 s) on a thread of their
 * own while the rest of the server is put together; {@link #awaitTokenKeys} comes before anything
 * can sign, verify or publish with them, so no call is ever answered without its key.
 */
record KeyAssembly(SigningKeys tokenKeys, SigningKeys auditKeys, AuditSigner auditSigner,
    CompletableFuture<Long> tokenKeysLoaded) {
  private static final Logger log = LoggerFactory.getLogger(KeyAssembly.class);
  static final Duration RELOAD_INTERVAL = Duration.ofSeconds(5);
  private static final Duration ROTATION_CHECK = Duration.ofMinutes(1);

  /** Where the token keys load: a thread of their own. */
  static final Executor OWN_THREAD = task -> Thread.ofPlatform().name("load-token-keys").daemon(true).start(task);

  static KeyAssembly open(MongoStorage storage, ServerConfig config, Clock clock, Executor tokenKeyLoading) {
    KeyEncryption encryption = KeyEncryption.of(config.keys().keyEncryptionKey(), config.keys().insecureDevKeys());
    if (!encryption.hasKek()) {
      log.warn("!!! INSECURE DEV KEYS: signing keys are stored UNENCRYPTED in the store; anyone who can read it"
          + " can mint tokens. Set AUTH_KEY_ENCRYPTION_KEY for anything but a throw-away trial. !!!");
    }
    SigningKeys tokenKeys = new SigningKeys(storage.signingKeys(encryption), clock, config.keys().algorithm(),
        config.tokenTtl().plus(config.clockSkew()));
    // audit keys never retire: a checkpoint must verify for as long as the trail is kept
    SigningKeys auditKeys = SigningKeys.neverRetiring(storage.auditSigningKeys(encryption), clock,
        SigningAlgorithm.EdDSA);
    // before any key is used: every stored key must be one this server can trust
    StartupKeyCheck.run(List.of(tokenKeys, auditKeys), config.keys().encryptPlaintextKeys());
    CompletableFuture<Long> tokenKeysLoaded = CompletableFuture.supplyAsync(() -> {
      long started = System.nanoTime();
      tokenKeys.loadOrCreate();
      return System.nanoTime() - started;
    }, tokenKeyLoading);
    // the audit keys are needed at once: the audit assembly's signer publishes them
    auditKeys.loadOrCreate();
    return new KeyAssembly(tokenKeys, auditKeys, new AuditSigner(auditKeys), tokenKeysLoaded);
  }

  /**
   * Waits until the token keys are loaded or made; throws what loading them threw.
   *
   * @return how long loading them took, in nanoseconds
   */
  long awaitTokenKeys() {
    try {
      return tokenKeysLoaded.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** Rotations and new keys made by other instances reach this one within a reload. */
  void schedule(Background background, ServerConfig config) {
    Background.every(background.upkeep, RELOAD_INTERVAL, "reload signing keys", tokenKeys::reload);
    Background.every(background.upkeep, RELOAD_INTERVAL, "reload or rotate audit keys",
        () -> auditSigner.refresh(config.keys().auditRotationInterval()));
    // the next key is published a lead ahead of its first signature: every instance's JWK Set shows it
    // within a reload, and every cache of a JWK Set is refreshed within its max-age (see ServerConfig)
    config.keys().rotationInterval().ifPresent(interval -> Background.every(background.upkeep, ROTATION_CHECK,
        "rotate the signing key", () -> tokenKeys.rotateIfOlderThan(interval, config.keys().publicationLead())));
  }
}
