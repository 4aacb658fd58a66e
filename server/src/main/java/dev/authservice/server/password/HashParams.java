package dev.authservice.server.password;

/**
 * Argon2id cost parameters. Stored hashes carry their own parameters (PHC string format), so
 * changing these only affects new hashes and triggers a rehash at the next successful login.
 */
public record HashParams(int memoryKib, int iterations, int parallelism) {
  /** OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1. */
  public static final HashParams OWASP_DEFAULT = new HashParams(19456, 2, 1);
  /** The most lanes a stored hash may have and still be checked. */
  public static final int MAX_PARALLELISM = 16;
  /**
   * The most passes a setting may ask for: at the default memory, 64 take about 0.6 s of a core
   * per hash, more than any published recommendation (RFC 9106 and OWASP ask 1 to 5). A typo
   * beyond it would hold every hashing slot for seconds per login and turn logins away.
   */
  public static final int MAX_ITERATIONS = 64;

  public HashParams {
    if (memoryKib < 8 * parallelism || memoryKib < 1024) {
      throw new IllegalArgumentException("Argon2 memory must be at least 1024 KiB, got " + memoryKib);
    }
    if (iterations < 1) {
      throw new IllegalArgumentException("Argon2 iterations must be at least 1, got " + iterations);
    }
    if (iterations > MAX_ITERATIONS) {
      throw new IllegalArgumentException("Argon2 iterations must be at most " + MAX_ITERATIONS + ", got "
          + iterations);
    }
    if (parallelism < 1) {
      throw new IllegalArgumentException("Argon2 parallelism must be at least 1, got " + parallelism);
    }
    if (parallelism > MAX_PARALLELISM) {
      // a hash of more lanes than the server checks (PasswordHasher's cost limits) would not
      // check: not even an unknown user's dummy, whose hash has these parameters
      throw new IllegalArgumentException("Argon2 parallelism must be at most " + MAX_PARALLELISM + ", got "
          + parallelism);
    }
  }
}
