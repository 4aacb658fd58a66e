package dev.authservice.server.password;

import de.mkammerer.argon2.Argon2;
import de.mkammerer.argon2.Argon2Factory;
import de.mkammerer.argon2.Argon2Factory.Argon2Types;
import java.security.SecureRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Argon2id hashing in PHC string format ({@code $argon2id$v=19$m=...,t=...,p=...$salt$hash}).
 *
 * <p>Concurrent hashes are capped: each one holds {@code memoryKib} of native memory, so an
 * unbounded number of parallel logins would exhaust memory before CPU. They run on that many
 * platform threads of their own, the callers waiting in turn: a hash is a native call, which would
 * pin a virtual thread's carrier for its whole 30-40 ms, and with one carrier per core two logins
 * hashing would stop every other call (a Validate, another login's store writes) until they end.
 */
public final class PasswordHasher {
  private final Argon2 argon2 = Argon2Factory.create(Argon2Types.ARGON2id);
  private final HashParams params;
  private final ExecutorService hashing;
  private final String dummyHash;

  public PasswordHasher(HashParams params, int maxConcurrentHashes) {
    this.params = params;
    AtomicInteger threads = new AtomicInteger();
    this.hashing = Executors.newFixedThreadPool(maxConcurrentHashes, work -> {
      Thread thread = new Thread(work, "argon2-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    this.dummyHash = hash(java.util.HexFormat.of().formatHex(random).toCharArray());
  }

  public HashParams params() {
    return params;
  }

  /** Hashes a password with the current parameters and a fresh salt. */
  public String hash(char[] password) {
    return withSlot(() -> argon2.hash(params.iterations(), params.memoryKib(),
        params.parallelism(), password));
  }

  /** Checks a password against a stored PHC hash in constant time. */
  public boolean verify(String storedHash, char[] password) {
    return withSlot(() -> argon2.verify(storedHash, password));
  }

  /**
   * Spends the same work as {@link #verify} on a hash no password matches, so a login for an
   * unknown username takes as long as one with a wrong password.
   */
  public void verifyDummy(char[] password) {
    verify(dummyHash, password);
  }

  /** Whether a stored hash was made with other parameters than the current ones. */
  public boolean needsRehash(String storedHash) {
    return argon2.needsRehash(storedHash, params.iterations(), params.memoryKib(),
        params.parallelism());
  }

  /** Runs the hash on a hashing thread, first come first served; the caller waits, uninterruptibly as before. */
  private <T> T withSlot(Supplier<T> work) {
    Future<T> result = hashing.submit(work::get);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return result.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RuntimeException runtime) {
            throw runtime;
          }
          if (e.getCause() instanceof Error error) {
            throw error;
          }
          throw new IllegalStateException(e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
