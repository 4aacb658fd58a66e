package dev.authservice.server.password;

import com.sun.jna.Callback;
import com.sun.jna.CallbackReference;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import de.mkammerer.argon2.jna.Argon2Library;
import de.mkammerer.argon2.jna.Argon2_context;
import de.mkammerer.argon2.jna.Argon2_version;
import de.mkammerer.argon2.jna.JnaUint32;

/**
 * Raw Argon2id (version 0x13) through libargon2's {@code argon2id_ctx}, whose memory comes from
 * {@link HashBuffers} through the context's allocation callbacks instead of a malloc per hash.
 * libargon2 wipes the memory before it calls the free callback, which only lets the buffer go back
 * to the pool. A hash whose memory differs from the pool's size (a stored hash made with other
 * parameters) gets a buffer of its own, freed when it ends.
 */
final class NativeArgon2id {
  private static final int ARGON2_OK = 0;
  private static final int ARGON2_MEMORY_ALLOCATION_ERROR = -22;
  private static final int VERSION_13 = 0x13;

  /** libargon2's {@code allocate_fptr}: {@code int (*)(uint8_t **memory, size_t bytes)}. */
  public interface Allocate extends Callback {
    int invoke(Pointer memory, long bytes);
  }

  /** libargon2's {@code deallocate_fptr}: {@code void (*)(uint8_t *memory, size_t bytes)}. */
  public interface Release extends Callback {
    void invoke(Pointer memory, long bytes);
  }

  private final HashBuffers buffers;
  /** The buffer lent to the hash running on this thread: libargon2 calls back on the caller's thread. */
  private final ThreadLocal<Memory> lent = new ThreadLocal<>();
  // held in fields: JNA frees a callback's native stub once its Java object is collected
  private final Allocate allocate = this::lend;
  private final Release release = (memory, bytes) -> { };
  private final Pointer allocateFunction = CallbackReference.getFunctionPointer(allocate);
  private final Pointer releaseFunction = CallbackReference.getFunctionPointer(release);
  private final java.util.concurrent.atomic.AtomicLong lends = new java.util.concurrent.atomic.AtomicLong();

  NativeArgon2id(HashBuffers buffers) {
    this.buffers = buffers;
  }

  private int lend(Pointer memory, long bytes) {
    Memory buffer = lent.get();
    if (buffer == null || bytes > buffer.size()) {
      return ARGON2_MEMORY_ALLOCATION_ERROR;
    }
    memory.setPointer(0, buffer);
    lends.incrementAndGet();
    return ARGON2_OK;
  }

  /** How many times libargon2 took its memory from us (for tests: the callback is in use). */
  long lends() {
    return lends.get();
  }

  /** The raw Argon2id tag of {@code password} (bytes, wiped by the caller) of {@code length} bytes. */
  byte[] hash(byte[] password, byte[] salt, int iterations, int memoryKib, int parallelism, int length) {
    long bytes = (long) memoryKib * 1024;
    boolean pooled = bytes == buffers.bytes();
    Memory buffer = null;
    Memory pwd = null;
    Memory saltMemory = null;
    Memory out = null;
    boolean wiped = false;
    try {
      buffer = pooled ? buffers.take() : HashBuffers.allocate(bytes);
      pwd = HashBuffers.allocate(Math.max(1, password.length));
      saltMemory = HashBuffers.allocate(salt.length);
      out = HashBuffers.allocate(length);
      lent.set(buffer);
      pwd.write(0, password, 0, password.length);
      saltMemory.write(0, salt, 0, salt.length);
      Argon2_context.ByReference context = new Argon2_context.ByReference();
      context.out = out;
      context.outlen = new JnaUint32(length);
      context.pwd = pwd;
      context.pwdlen = new JnaUint32(password.length);
      context.salt = saltMemory;
      context.saltlen = new JnaUint32(salt.length);
      context.secret = null;
      context.secretlen = new JnaUint32(0);
      context.ad = null;
      context.adlen = new JnaUint32(0);
      context.t_cost = new JnaUint32(iterations);
      context.m_cost = new JnaUint32(memoryKib);
      context.lanes = new JnaUint32(parallelism);
      context.threads = new JnaUint32(parallelism);
      context.version = new Argon2_version(VERSION_13);
      context.allocate_cbk = allocateFunction;
      context.free_cbk = releaseFunction;
      context.flags = new JnaUint32(0);
      int result = Argon2Library.INSTANCE.argon2id_ctx(context);
      // libargon2 wipes its memory when a hash ends, but not when it fails after allocating it
      wiped = result == ARGON2_OK;
      if (result != ARGON2_OK) {
        throw new IllegalStateException("Argon2id failed: " + Argon2Library.INSTANCE.argon2_error_message(result));
      }
      return out.getByteArray(0, length);
    } finally {
      lent.remove();
      for (Memory secret : new Memory[] {pwd, out}) {
        if (secret != null) {
          secret.clear();
          secret.close();
        }
      }
      if (saltMemory != null) {
        saltMemory.close();
      }
      if (buffer != null) {
        if (!wiped) {
          buffer.clear();
        }
        if (pooled) {
          buffers.giveBack(buffer);
        } else {
          buffer.close();
        }
      }
    }
  }
}
