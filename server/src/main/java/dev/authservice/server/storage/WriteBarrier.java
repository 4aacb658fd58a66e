package dev.authservice.server.storage;

/**
 * Makes acknowledged writes durable where the store's acknowledgement alone does not. MongoDB
 * does this through the write concern, so its barrier does nothing; the embedded store keeps
 * recent writes in memory until committed and synced.
 */
@FunctionalInterface
public interface WriteBarrier {
  WriteBarrier NONE = () -> {};

  void afterWrite();
}
