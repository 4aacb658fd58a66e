package dev.authservice.server.usecase;

/**
 * What the use cases count for monitoring. Labels are codes from a closed set (outcomes, the audit
 * reason codes), never a username, token or address, so the number of series stays bounded.
 * Implemented outside the domain (with OpenTelemetry in {@code telemetry}).
 */
public interface UseCaseMetrics {
  /** Which call asked whether a token is active: the Validate RPC or a gateway's authorization check. */
  enum Via {
    VALIDATE,
    CHECK
  }

  /** A login answered: {@code reason} is the audit reason code of a failure, empty on success. */
  void login(boolean succeeded, String reason);

  /** A token checked: {@code reason} is the audit reason code when inactive, empty when active. */
  void validation(Via via, boolean active, String reason);

  /** Counts nothing: for tests and tools that do not monitor. */
  UseCaseMetrics NONE = new UseCaseMetrics() {
    @Override
    public void login(boolean succeeded, String reason) {}

    @Override
    public void validation(Via via, boolean active, String reason) {}
  };
}
