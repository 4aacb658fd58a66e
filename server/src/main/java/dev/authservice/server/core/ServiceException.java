package dev.authservice.server.core;

/**
 * A refusal the caller should see. Its message is vetted text safe to send to any client: it
 * never holds a token, a password, a hash or a library's own error text.
 */
public final class ServiceException extends RuntimeException {
  /** What went wrong, independent of the transport; the gRPC layer maps it to a status. */
  public enum Kind {
    INVALID_ARGUMENT,
    BAD_CREDENTIALS,
    UNAUTHENTICATED,
    FORBIDDEN,
    NOT_FOUND,
    ALREADY_EXISTS,
    UNAVAILABLE,
    EXHAUSTED
  }

  private final Kind kind;

  public ServiceException(Kind kind, String publicMessage) {
    super(publicMessage, null, false, false);
    this.kind = kind;
  }

  public ServiceException(Kind kind, String publicMessage, Throwable cause) {
    super(publicMessage, cause, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  public String publicMessage() {
    return getMessage();
  }

  public static ServiceException invalid(String message) {
    return new ServiceException(Kind.INVALID_ARGUMENT, message);
  }
}
