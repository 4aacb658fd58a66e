package dev.authservice.server.token;

/** Why a token is not active; mirrors {@code auth.v1.ValidationFailure}. */
public enum ValidationFailure {
  MALFORMED,
  BAD_SIGNATURE,
  UNSUPPORTED_ALGORITHM,
  UNKNOWN_KEY,
  EXPIRED,
  NOT_YET_VALID,
  WRONG_ISSUER,
  WRONG_AUDIENCE,
  WRONG_TYPE,
  MISSING_CLAIM,
  REVOKED,
  USER_DISABLED,
  /** {@code exp - iat} exceeds the token lifetime plus the clock skew: signed with our key, but not by us. */
  LIFETIME_TOO_LONG;

  /** The audit reason code, the proto enum name. */
  public String reasonCode() {
    return "VALIDATION_FAILURE_" + name();
  }
}
