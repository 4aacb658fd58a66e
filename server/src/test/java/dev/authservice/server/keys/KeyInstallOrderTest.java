package dev.authservice.server.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Reloads run on several threads: a read of the store that began before another but ended after
 * it must not bring back the older key set (a rotated key would then fail as unknown, or a
 * compromised one sign again).
 */
class KeyInstallOrderTest {
  private static SigningKey key(String kid, int generation) throws Exception {
    KeyPair pair = SigningAlgorithm.ES256.generate(new SecureRandom());
    return new SigningKey(kid, generation, SigningAlgorithm.ES256, pair.getPrivate(), pair.getPublic(),
        Instant.now().minusSeconds(60), Optional.empty());
  }

  @Test
  void aReadThatBeganEarlierAndEndedLaterIsNotInstalled() throws Exception {
    StoredKeys before = new StoredKeys(List.of(key("old", 1)), List.of(), 1);
    StoredKeys after = new StoredKeys(List.of(key("old", 1), key("rotated", 2)), List.of(), 2);
    CountDownLatch slowReadBegan = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger loads = new AtomicInteger();
    SigningKeyStore store = new SigningKeyStore() {
      @Override
      public String name() {
        return "test keys";
      }

      @Override
      public StoredKeys load() {
        int n = loads.incrementAndGet();
        if (n == 2) { // the slow read: it sees the store before the rotation
          slowReadBegan.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return before;
        }
        return n == 1 ? before : after;
      }

      @Override
      public boolean insertIfGenerationFree(SigningKey key) {
        return false;
      }

      @Override
      public void retire(String kid, Instant verifyUntil) {}

      @Override
      public boolean encryptStoredPlaintext(String kid) {
        return false;
      }
    };
    SigningKeys keys = new SigningKeys(store, Clock.systemUTC(), SigningAlgorithm.ES256, Duration.ofMinutes(5));
    keys.loadOrCreate();
    CompletableFuture<Void> slow = CompletableFuture.runAsync(keys::reload);
    assertTrue(slowReadBegan.await(5, TimeUnit.SECONDS));
    keys.reload(); // begins after the slow one, sees the rotation, ends first
    assertEquals("rotated", keys.current().kid());
    release.countDown();
    slow.get(5, TimeUnit.SECONDS);
    assertEquals("rotated", keys.current().kid(), "the older read, ending last, was not installed");
    assertTrue(keys.byKid("rotated").isPresent());
  }
}
