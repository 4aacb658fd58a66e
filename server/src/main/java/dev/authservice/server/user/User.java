package dev.authservice.server.user;

import java.time.Instant;
import java.util.List;

/**
 * An account. {@code subject} is the stable id put in tokens' {@code sub}; the password hash is
 * kept out of {@link #toString()}.
 */
public record User(
    String subject,
    String username,
    String passwordHash,
    List<String> roles,
    boolean disabled,
    Instant createTime) {

  public static final String ROLE_ADMIN = "admin";
  public static final String ROLE_AUDITOR = "auditor";

  public User {
    roles = List.copyOf(roles);
  }

  public User withPasswordHash(String hash) {
    return new User(subject, username, hash, roles, disabled, createTime);
  }

  @Override
  public String toString() {
    return "User[subject=" + subject + ", username=" + username + ", roles=" + roles
        + ", disabled=" + disabled + ", createTime=" + createTime + "]";
  }
}
