package dev.authservice.server.audit;

/**
 * Where calls that cost their caller nothing and can be repeated in a loop are counted rather than
 * written one by one (the write path's rollup of them): calls refused before any password or token
 * check, and successes that change nothing (a token revoked again).
 */
public interface Refusals {
  /**
   * Counts one refusal, given as the event it would otherwise be; {@code byUsername}: counted apart
   * for each username (a refusal about one account).
   */
  void count(AuditEvent refusal, boolean byUsername);
}
