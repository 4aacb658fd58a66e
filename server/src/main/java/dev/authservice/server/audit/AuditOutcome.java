package dev.authservice.server.audit;

/** Whether the audited action succeeded. Stored under its full proto name. */
public enum AuditOutcome {
  SUCCESS,
  FAILURE,
  /** A stored outcome this version does not know (a newer version's, or an edit): read, never written. */
  UNKNOWN;

  private static final String PREFIX = "AUDIT_OUTCOME_";

  public String storedName() {
    return PREFIX + name();
  }

  /** Whether this is an outcome this version writes (every one but {@link #UNKNOWN}). */
  public boolean isKnown() {
    return this != UNKNOWN;
  }

  /** The outcome of a stored name; {@link #UNKNOWN} for a name this version does not know. */
  public static AuditOutcome fromStoredName(String stored) {
    return StoredNames.parse(AuditOutcome.class, PREFIX, stored, UNKNOWN);
  }
}
