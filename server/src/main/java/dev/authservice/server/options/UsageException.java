package dev.authservice.server.options;

/** A command line or environment that the command cannot run with; the message says what to change. */
public final class UsageException extends IllegalArgumentException {
  public UsageException(String message) {
    super(message);
  }
}
