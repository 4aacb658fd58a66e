package dev.authservice.server.token;

import java.security.InvalidAlgorithmParameterException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's key set: the newest generation signs, every stored key verifies. The first
 * instance to start on an empty store generates generation 1; the store's unique generation
 * index makes all instances agree on it.
 */
public final class SigningKeys {
  private static final Logger log = LoggerFactory.getLogger(SigningKeys.class);
  public static final String ALGORITHM = "ES256";

  private final SigningKeyStore store;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private volatile Map<String, SigningKey> byKid = Map.of();
  private volatile SigningKey current;

  public SigningKeys(SigningKeyStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Loads the stored keys, generating the first one if the store has none. */
  public void loadOrCreate() {
    List<SigningKey> keys = store.loadAll();
    if (keys.isEmpty()) {
      SigningKey first = generate(1);
      if (store.insertIfGenerationFree(first)) {
        log.info("generated signing key kid={} alg={}", first.kid(), first.algorithm());
      }
      keys = store.loadAll();
    }
    install(keys);
  }

  public SigningKey current() {
    return current;
  }

  /** The key with this id, if it is one of this server's. */
  public Optional<SigningKey> byKid(String kid) {
    return Optional.ofNullable(byKid.get(kid));
  }

  private void install(List<SigningKey> keys) {
    if (keys.isEmpty()) {
      throw new IllegalStateException("no signing key in the store");
    }
    byKid = keys.stream().collect(Collectors.toUnmodifiableMap(SigningKey::kid, Function.identity()));
    current = keys.stream().max(Comparator.comparingInt(SigningKey::generation)).orElseThrow();
  }

  private SigningKey generate(int generation) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), random);
      KeyPair pair = generator.generateKeyPair();
      byte[] id = new byte[16];
      random.nextBytes(id);
      String kid = Base64.getUrlEncoder().withoutPadding().encodeToString(id);
      return new SigningKey(kid, generation, ALGORITHM, pair.getPrivate(), pair.getPublic(),
          clock.instant().truncatedTo(ChronoUnit.MILLIS));
    } catch (NoSuchAlgorithmException | InvalidAlgorithmParameterException e) {
      throw new IllegalStateException("this JDK cannot generate P-256 keys", e);
    }
  }
}
