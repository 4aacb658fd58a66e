package dev.authservice.server.usecase;

/**
 * Bounds on the analytics calls that walk much of the trail (SummarizeAudit, VerifyAudit): how
 * many one caller may have in progress on an instance, and how many an instance runs at once.
 * Each holds one of the embedded store's command threads (16) for as long as its walk lasts,
 * and the heap it aggregates in: the logins and validations beside them need the rest. A
 * verification keeps what it needs of every checkpoint in the trail (about 0.7 KB each): one
 * runs at a time on an instance, over at most {@code verifyMaxCheckpoints}.
 */
public record AnalyticsSettings(int maxPerCaller, int maxAtOnce, int verifyMaxCheckpoints) {
  public static final AnalyticsSettings DEFAULTS = new AnalyticsSettings(2, 4, 50_000);
  /** Below the embedded store's 16 command threads, with room for every other call. */
  static final int MOST_AT_ONCE = 12;

  public AnalyticsSettings {
    if (maxPerCaller < 1) {
      throw new IllegalArgumentException("AUTH_ANALYTICS_MAX_PER_CALLER must be at least 1, got " + maxPerCaller);
    }
    if (maxAtOnce < maxPerCaller || maxAtOnce > MOST_AT_ONCE) {
      throw new IllegalArgumentException("AUTH_ANALYTICS_MAX_AT_ONCE must be at least AUTH_ANALYTICS_MAX_PER_CALLER ("
          + maxPerCaller + ") and at most " + MOST_AT_ONCE + ", got " + maxAtOnce);
    }
    if (verifyMaxCheckpoints < 1) {
      throw new IllegalArgumentException("AUTH_VERIFY_MAX_CHECKPOINTS must be at least 1, got " + verifyMaxCheckpoints);
    }
  }
}
