package dev.authservice.server.password;

/**
 * The native memory for one Argon2id hash could not be allocated (the machine's memory, or a limit
 * on the process's address space): no password was checked. Its message holds only the size.
 */
public final class HashMemoryUnavailableException extends RuntimeException {
  private final long bytes;

  public HashMemoryUnavailableException(long bytes, OutOfMemoryError cause) {
    super("no memory for an Argon2id hash: " + (bytes >= 1 << 20 ? (bytes >> 20) + " MiB" : bytes + " bytes")
        + " could not be allocated", cause);
    this.bytes = bytes;
  }

  /** The memory the hash asked for. */
  public long bytes() {
    return bytes;
  }
}
