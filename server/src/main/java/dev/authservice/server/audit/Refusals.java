package dev.authservice.server.audit;

/**
 * Where calls refused before any password or token check are counted rather than written one by
 * one (the write path's rollup of them).
 */
public interface Refusals {
  /**
   * Counts one refusal, given as the event it would otherwise be; {@code byUsername}: counted apart
   * for each username (a refusal about one account).
   */
  void count(AuditEvent refusal, boolean byUsername);
}
