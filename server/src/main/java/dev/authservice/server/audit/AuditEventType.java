package dev.authservice.server.audit;

/** What an audit event records. Stored under its full proto name, e.g. {@code AUDIT_EVENT_TYPE_LOGIN}. */
public enum AuditEventType {
  LOGIN,
  TOKEN_ISSUE,
  TOKEN_VALIDATE,
  AUDIT_QUERY,
  ACCESS_DENIED,
  USER_CREATE,
  USER_DISABLE,
  ACCOUNT_LOCKED,
  TOKEN_REFRESH,
  TOKEN_REVOKE,
  USER_UNLOCK,
  KEY_ROTATE,
  /** A finding of the scheduled review. */
  ALERT,
  /**
   * A stored type this version does not know: one a newer version wrote into the same store (a
   * rolling upgrade), or an edited document. Read, never written; its event is still listed and
   * streamed (as {@code AUDIT_EVENT_TYPE_UNSPECIFIED}) rather than failing the whole read.
   */
  UNKNOWN;

  private static final String PREFIX = "AUDIT_EVENT_TYPE_";

  public String storedName() {
    return PREFIX + name();
  }

  /** Whether this is a type this version writes (every one but {@link #UNKNOWN}). */
  public boolean isKnown() {
    return this != UNKNOWN;
  }

  /** The type of a stored name; {@link #UNKNOWN} for a name this version does not know. */
  public static AuditEventType fromStoredName(String stored) {
    return StoredNames.parse(AuditEventType.class, PREFIX, stored, UNKNOWN);
  }
}
