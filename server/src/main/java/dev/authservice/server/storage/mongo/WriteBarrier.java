package dev.authservice.server.storage.mongo;

/**
 * Makes acknowledged writes durable where the store's acknowledgement alone does not. MongoDB
 * does this through the write concern, so its barrier does nothing; a store that keeps recent
 * writes in memory until it commits (the embedded one) passes its commit-and-sync here.
 */
@FunctionalInterface
public interface WriteBarrier {
  WriteBarrier NONE = () -> {};

  void afterWrite();
}
