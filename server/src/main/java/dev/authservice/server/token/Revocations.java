package dev.authservice.server.token;

import java.util.Optional;

/** Whether an otherwise valid token has been revoked or belongs to a disabled user. */
@FunctionalInterface
public interface Revocations {
  Revocations NONE = token -> Optional.empty();

  Optional<ValidationFailure> check(VerifiedToken token);
}
