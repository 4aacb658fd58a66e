package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.throttle.LoginThrottle;
import dev.authservice.server.throttle.ThrottleSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Many instances on one store admitting attempts at one account at once: each attempt is counted
 * by one write conditional on the count it read, so no more are admitted than the lockout allows,
 * whichever instance they reach. (Each throttle here stands for an instance: its own turns, the
 * shared store.)
 */
class ThrottleRaceTest {
  @Test
  void instancesSharingAStoreAdmitNoMoreAttemptsThanTheLockout() throws Exception {
    TestServer.TestStore store = TestServer.TestStore.create();
    try (MongoStorage storage = StorageBootstrap.open(Optional.of(store.uri()), store.dataDir(), store.databaseName(),
        Duration.ofSeconds(5), "throttle-race")) {
      ThrottleSettings lockAfterFive = new ThrottleSettings(100, Duration.ofMinutes(15), 5, 0);
      List<LoginThrottle> instances = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        instances.add(new LoginThrottle(storage.loginFailures(), storage.loginAddressAttempts(), lockAfterFive,
            Clock.systemUTC()));
      }
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Boolean>> admissions = new ArrayList<>();
      try (ExecutorService callers = Executors.newFixedThreadPool(64)) {
        for (int i = 0; i < 128; i++) {
          LoginThrottle instance = instances.get(i % instances.size());
          admissions.add(callers.submit(() -> {
            start.await();
            if (instance.admit("victim", "192.0.2.7") instanceof LoginThrottle.Attempt attempt) {
              attempt.failed(false);
              return true;
            }
            return false;
          }));
        }
        start.countDown();
        int admitted = 0;
        for (Future<Boolean> admission : admissions) {
          admitted += admission.get() ? 1 : 0;
        }
        assertEquals(5, admitted, "attempts admitted to a password check");
      }
      assertEquals(5, instances.get(0).state("victim").orElseThrow().failures());
    } finally {
      store.release();
    }
  }
}
