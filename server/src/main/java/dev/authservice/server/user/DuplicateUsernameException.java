package dev.authservice.server.user;

/** The username is already taken. */
public final class DuplicateUsernameException extends RuntimeException {
  public DuplicateUsernameException(String username) {
    super("username already exists: " + username, null, false, false);
  }
}
