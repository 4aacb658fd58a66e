package dev.authservice.server.review;

/** What the review reports for monitoring: each new alert, by rule. Implemented outside the domain. */
public interface ReviewMetrics {
  void alert(String rule);

  ReviewMetrics NONE = rule -> {};
}
