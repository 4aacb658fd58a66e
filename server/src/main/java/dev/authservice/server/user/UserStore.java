package dev.authservice.server.user;

import java.util.List;
import java.util.Optional;

/** Durable home of accounts. Usernames are unique (the store enforces it with a unique index). */
public interface UserStore {
  /** Adds an account; throws {@link DuplicateUsernameException} if the username is taken. */
  void insert(User user);

  Optional<User> findByUsername(String username);

  Optional<User> findBySubject(String subject);

  /** Marks an account disabled and returns it as stored afterwards, if it exists. */
  Optional<User> disable(String username);

  /** Replaces the password hash of an account. */
  void updatePasswordHash(String subject, String newHash);

  /** Up to {@code limit} accounts in username order, strictly after {@code afterUsername}. */
  List<User> list(Optional<String> afterUsername, int limit);

  boolean anyEnabledUserWithRole(String role);
}
