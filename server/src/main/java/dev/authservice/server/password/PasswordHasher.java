package dev.authservice.server.password;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
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
 *
 * <p>Hashes and checks run through {@link NativeArgon2id} with memory reused from hash to hash
 * ({@link HashBuffers}). A stored hash must be in libargon2's own string format (what argon2-jvm
 * and this class write) and within a cost limit, or it does not match. The tag is compared in
 * constant time.
 */
public final class PasswordHasher {
  private static final int SALT_BYTES = 16;
  private static final int TAG_BYTES = 32;
  /** Buffers unused this long (up to twice) are freed: a login burst's end, not a pause between logins. */
  public static final Duration BUFFER_IDLE = Duration.ofSeconds(2);
  /**
   * Argon2id v1.3 of the one byte 0 with a salt of 16 zero bytes, 8 KiB, one pass, one lane, 32
   * bytes (BouncyCastle's Argon2BytesGenerator computes the same): the self-test's known answer.
   */
  private static final String SELF_TEST_TAG = "8cf201eb18e626e4cd10b69a321fb79e65cba83988c3f7e59a84237376074a01";

  private final SecureRandom random = new SecureRandom();
  private final HashBuffers buffers;
  private final NativeArgon2id nativeArgon2id;
  private final HashParams params;
  private final ExecutorService hashing;
  private final String dummyHash;

  public PasswordHasher(HashParams params, int maxConcurrentHashes) {
    this(params, maxConcurrentHashes, BUFFER_IDLE);
  }

  PasswordHasher(HashParams params, int maxConcurrentHashes, Duration bufferIdle) {
    this.params = params;
    this.buffers = new HashBuffers((long) params.memoryKib() * 1024, bufferIdle);
    AtomicInteger threads = new AtomicInteger();
    this.hashing = Executors.newFixedThreadPool(maxConcurrentHashes, work -> {
      Thread thread = new Thread(work, "argon2-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    this.dummyHash = dummyHash();
    try {
      this.nativeArgon2id = new NativeArgon2id(buffers);
      selfTest();
    } catch (Error e) {
      // JNA's native part or libargon2 did not load (a LinkageError, or JNA's own Error for a
      // native part of another version): an Error, which would end the starting thread without
      // the start's own failure handling
      hashing.shutdownNow();
      buffers.close();
      throw new IllegalStateException("the native code for Argon2id could not be loaded (" + e + "). JNA unpacks"
          + " it into a directory of its own (the jna.tmpdir system property; else ~/.cache/JNA/temp, or"
          + " $XDG_CACHE_HOME/JNA/temp, when it can write there; else java.io.tmpdir), which must allow running"
          + " files (not mounted noexec); name another with -Djna.tmpdir=DIR (with bin/auth-server: in"
          + " AUTH_JAVA_OPTS)", e);
    }
  }

  /**
   * One hash at the smallest cost libargon2 takes (8 KiB, one pass), on a hashing thread, checked
   * against its known answer: a native library that cannot be loaded or called, or that computes
   * something else than Argon2id v1.3, stops the start here, not at the first login, without a
   * full-cost hash on the start's critical path.
   */
  private void selfTest() {
    byte[] tag = withSlot(() -> nativeArgon2id.hash(new byte[] {0}, new byte[SALT_BYTES], 1, 8, 1, TAG_BYTES));
    if (!MessageDigest.isEqual(tag, java.util.HexFormat.of().parseHex(SELF_TEST_TAG))) {
      throw new IllegalStateException("libargon2 failed its self-test (a wrong Argon2id tag for a known input): the"
          + " native library loaded is not one the server can hash passwords with");
    }
  }

  /**
   * A hash with the current parameters that no password matches: a random salt and a random tag
   * (a password would have to hash to those 256 bits). Checking a password against it costs what
   * checking against a real hash does, and making it costs no hash at start.
   */
  private String dummyHash() {
    byte[] salt = new byte[SALT_BYTES];
    byte[] tag = new byte[TAG_BYTES];
    random.nextBytes(salt);
    random.nextBytes(tag);
    return encoded(salt, tag);
  }

  /** {@code salt} and {@code tag} as a PHC string with the current parameters. */
  private String encoded(byte[] salt, byte[] tag) {
    return new PhcArgon2id(params.memoryKib(), params.iterations(), params.parallelism(), salt, tag).encoded();
  }

  public HashParams params() {
    return params;
  }

  /** Hashes a password with the current parameters and a fresh salt. */
  public String hash(char[] password) {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    byte[] tag = withSlot(() -> raw(password, salt, params.iterations(), params.memoryKib(), params.parallelism(),
        TAG_BYTES));
    return encoded(salt, tag);
  }

  /** Checks a password against a stored PHC hash in constant time. */
  public boolean verify(String storedHash, char[] password) {
    Optional<PhcArgon2id> stored = PhcArgon2id.parse(storedHash).filter(this::withinLimits);
    if (stored.isEmpty()) {
      // not a hash this server writes (libargon2's own v=19 string), or one costing more than it
      // would spend: only someone who can write the user store makes one, and it must neither take
      // a hashing slot for hours nor the server's memory, nor answer faster than a real check
      verifyDummy(password);
      return false;
    }
    PhcArgon2id hash = stored.get();
    byte[] tag = withSlot(() -> raw(password, hash.salt(), hash.iterations(), hash.memoryKib(), hash.parallelism(),
        hash.tag().length));
    try {
      return MessageDigest.isEqual(tag, hash.tag());
    } finally {
      Arrays.fill(tag, (byte) 0);
    }
  }

  /**
   * Whether a stored hash's cost is one this server would check: up to four times the memory and
   * iterations it hashes with now (at least 256 MiB and 16, so hashes made before an operator
   * lowered them still check), at most 16 lanes and a 64-byte salt.
   */
  private boolean withinLimits(PhcArgon2id hash) {
    long maxMemoryKib = Math.max(4L * params.memoryKib(), 256L * 1024);
    long maxIterations = Math.max(4L * params.iterations(), 16);
    return hash.memoryKib() <= maxMemoryKib && hash.iterations() <= maxIterations
        && hash.parallelism() <= HashParams.MAX_PARALLELISM && hash.salt().length <= 64;
  }

  /** Buffers allocated and buffers waiting for a hash (for tests). */
  int[] bufferCounts() {
    return new int[] {buffers.allocated(), buffers.idleBuffers()};
  }

  private byte[] raw(char[] password, byte[] salt, int iterations, int memoryKib, int parallelism, int length) {
    // UTF-8 takes at most three bytes per char: one buffer, no partial copies left unwiped
    ByteBuffer encoded = ByteBuffer.allocate(3 * password.length);
    StandardCharsets.UTF_8.newEncoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPLACE)
        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPLACE).encode(CharBuffer.wrap(password), encoded, true);
    byte[] bytes = Arrays.copyOf(encoded.array(), encoded.position());
    try {
      return nativeArgon2id.hash(bytes, salt, iterations, memoryKib, parallelism, length);
    } finally {
      Arrays.fill(bytes, (byte) 0);
      Arrays.fill(encoded.array(), (byte) 0);
    }
  }

  /** How many times libargon2 took its memory from the pool (for tests). */
  long lends() {
    return nativeArgon2id.lends();
  }

  /**
   * Spends the same work as {@link #verify} on a hash no password matches, so a login for an
   * unknown username takes as long as one with a wrong password.
   */
  public void verifyDummy(char[] password) {
    verify(dummyHash, password);
  }

  /**
   * Whether a stored hash was made with other parameters than the current ones (read with the
   * parser {@link #verify} uses; one it cannot read is rehashed).
   */
  public boolean needsRehash(String storedHash) {
    return PhcArgon2id.parse(storedHash)
        .map(hash -> hash.memoryKib() != params.memoryKib() || hash.iterations() != params.iterations()
            || hash.parallelism() != params.parallelism())
        .orElse(true);
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
