package dev.authservice.server.audit;

/** Whether the audited action succeeded. Stored under its full proto name. */
public enum AuditOutcome {
  SUCCESS,
  FAILURE;

  private static final String PREFIX = "AUDIT_OUTCOME_";

  public String storedName() {
    return PREFIX + name();
  }

  public static AuditOutcome fromStoredName(String stored) {
    return valueOf(stored.substring(PREFIX.length()));
  }
}
