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
  ALERT;

  private static final String PREFIX = "AUDIT_EVENT_TYPE_";

  public String storedName() {
    return PREFIX + name();
  }

  public static AuditEventType fromStoredName(String stored) {
    return valueOf(stored.substring(PREFIX.length()));
  }
}
