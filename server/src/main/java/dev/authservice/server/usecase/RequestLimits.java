package dev.authservice.server.usecase;

import dev.authservice.server.core.ServiceException;

/**
 * The size rules for what callers send, in one place: each check names the field and the rule, so
 * a refusal says what to change. Returns the problem rather than throwing, so the use case can
 * record the refusal before answering.
 */
public final class RequestLimits {
  /** Usernames, audiences, filters: what a person types. */
  public static final int MAX_NAME_LENGTH = 256;
  /** A refresh token is 43 characters; anything much longer is not one. */
  public static final int MAX_REFRESH_TOKEN_LENGTH = 256;

  private RequestLimits() {}

  /** Why a required text is not acceptable, or null when it is. */
  public static String required(String field, String value, int maxLength) {
    if (value.isEmpty()) {
      return field + " must not be empty";
    }
    return optional(field, value, maxLength);
  }

  /** Why an optional text is not acceptable, or null when it is. */
  public static String optional(String field, String value, int maxLength) {
    return value.length() > maxLength ? field + " must be at most " + maxLength + " characters" : null;
  }

  /** The first of the problems, or null when there is none. */
  public static String first(String... problems) {
    for (String problem : problems) {
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  /** Throws INVALID_ARGUMENT for a problem found. */
  public static void reject(String problem) {
    if (problem != null) {
      throw ServiceException.invalid(problem);
    }
  }
}
