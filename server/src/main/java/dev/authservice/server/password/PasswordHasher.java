package dev.authservice.server.password;

import de.mkammerer.argon2.Argon2;
import de.mkammerer.argon2.Argon2Factory;
import de.mkammerer.argon2.Argon2Factory.Argon2Types;
import java.security.SecureRandom;
import java.util.concurrent.Semaphore;

/**
 * Argon2id hashing in PHC string format ({@code $argon2id$v=19$m=...,t=...,p=...$salt$hash}).
 *
 * <p>Concurrent hashes are capped: each one holds {@code memoryKib} of native memory, so an
 * unbounded number of parallel logins would exhaust memory before CPU.
 */
public final class PasswordHasher {
  private final Argon2 argon2 = Argon2Factory.create(Argon2Types.ARGON2id);
  private final HashParams params;
  private final Semaphore slots;
  private final String dummyHash;

  public PasswordHasher(HashParams params, int maxConcurrentHashes) {
    this.params = params;
    this.slots = new Semaphore(maxConcurrentHashes, true);
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

  private <T> T withSlot(java.util.function.Supplier<T> work) {
    slots.acquireUninterruptibly();
    try {
      return work.get();
    } finally {
      slots.release();
    }
  }
}
