package dev.authservice.client.cli;

import io.grpc.Status;

/** authctl's exit codes, one per kind of outcome a script may want to branch on. */
public final class ExitCodes {
  public static final int OK = 0;
  /** Validate: the token is not active; or any failure not listed below. */
  public static final int INACTIVE_OR_FAILED = 1;
  public static final int USAGE = 2;
  public static final int UNAUTHENTICATED = 3;
  public static final int PERMISSION_DENIED = 4;
  /** INVALID_ARGUMENT, ALREADY_EXISTS, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE. */
  public static final int REFUSED = 5;
  public static final int UNAVAILABLE = 6;
  public static final int DEADLINE_EXCEEDED = 7;
  public static final int RESOURCE_EXHAUSTED = 8;
  public static final int OTHER_STATUS = 9;

  private ExitCodes() {}

  public static int of(Status.Code code) {
    return switch (code) {
      case OK -> OK;
      case UNAUTHENTICATED -> UNAUTHENTICATED;
      case PERMISSION_DENIED -> PERMISSION_DENIED;
      case INVALID_ARGUMENT, ALREADY_EXISTS, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE -> REFUSED;
      case UNAVAILABLE -> UNAVAILABLE;
      case DEADLINE_EXCEEDED -> DEADLINE_EXCEEDED;
      case RESOURCE_EXHAUSTED -> RESOURCE_EXHAUSTED;
      default -> OTHER_STATUS;
    };
  }

  static final String HELP = """
      Exit codes: 0 ok; 1 token not active or other failure; 2 usage error; 3 UNAUTHENTICATED;
        4 PERMISSION_DENIED; 5 request refused (INVALID_ARGUMENT, ALREADY_EXISTS, NOT_FOUND);
        6 UNAVAILABLE; 7 DEADLINE_EXCEEDED; 8 RESOURCE_EXHAUSTED; 9 any other status.""";
}
