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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The token signing keys and the audit checkpoint keys: checked, loaded (or made), and kept fresh. */
record KeyAssembly(SigningKeys tokenKeys, SigningKeys auditKeys, AuditSigner auditSigner) {
  private static final Logger log = LoggerFactory.getLogger(KeyAssembly.class);
  static final Duration RELOAD_INTERVAL = Duration.ofSeconds(5);
  private static final Duration ROTATION_CHECK = Duration.ofMinutes(1);

  static KeyAssembly open(MongoStorage storage, ServerConfig config, Clock clock) {
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
    tokenKeys.loadOrCreate();
    auditKeys.loadOrCreate();
    return new KeyAssembly(tokenKeys, auditKeys, new AuditSigner(auditKeys));
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
