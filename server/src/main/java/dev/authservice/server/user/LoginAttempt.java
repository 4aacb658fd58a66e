package dev.authservice.server.user;

import java.util.Optional;

/**
 * The result of checking credentials. Callers see one message for every failure; the
 * {@code failureReason} is for the audit trail only: {@code unknown_user}, {@code bad_password}
 * or {@code user_disabled}.
 */
public record LoginAttempt(Optional<User> user, String failureReason) {
  static LoginAttempt success(User user) {
    return new LoginAttempt(Optional.of(user), "");
  }

  static LoginAttempt failure(String reason) {
    return new LoginAttempt(Optional.empty(), reason);
  }

  public boolean succeeded() {
    return user.isPresent();
  }
}
