package dev.authservice.server.user;

import dev.authservice.server.core.ServiceException;
import dev.authservice.server.password.HashMemoryUnavailableException;
import dev.authservice.server.password.PasswordHasher;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Accounts: creating, disabling, listing, and checking credentials without revealing which part was wrong. */
public final class UserService {
  private static final Logger log = LoggerFactory.getLogger(UserService.class);
  /** What a caller is told when a password could not be hashed for want of memory. */
  public static final String NO_HASH_MEMORY = "the server has no memory for a password hash right now; try again later";

  public static final int MAX_USERNAME_LENGTH = 128;
  public static final int MIN_PASSWORD_LENGTH = 8;
  public static final int MAX_PASSWORD_LENGTH = 1024;
  private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}");
  private static final Pattern ROLE = Pattern.compile("[a-z][a-z0-9_-]{0,63}");
  private static final int MAX_ROLES = 32;

  private final UserStore store;
  private final PasswordHasher hasher;
  private final Clock clock;
  private final NoHashMemoryWarnings noMemoryWarnings;

  public UserService(UserStore store, PasswordHasher hasher, Clock clock) {
    this.store = store;
    this.hasher = hasher;
    this.clock = clock;
    this.noMemoryWarnings = new NoHashMemoryWarnings(clock);
  }

  /**
   * Checks a username and password. Unknown users, wrong passwords and disabled users all cost
   * one Argon2id verification, so timing does not tell them apart. Throws
   * {@link HashMemoryUnavailableException} when no password could be compared.
   */
  public LoginAttempt authenticate(String username, String password) {
    char[] secret = password.toCharArray();
    try {
      Optional<User> found = store.findByUsername(username);
      if (found.isEmpty()) {
        hasher.verifyDummy(secret);
        return LoginAttempt.failure("unknown_user");
      }
      User user = found.get();
      if (!hasher.verify(user.passwordHash(), secret)) {
        return LoginAttempt.failure("bad_password");
      }
      if (user.disabled()) {
        return LoginAttempt.failure("user_disabled");
      }
      if (hasher.needsRehash(user.passwordHash())) {
        user = rehashed(user, secret);
      }
      return LoginAttempt.success(user);
    } catch (HashMemoryUnavailableException e) {
      noMemoryWarnings.warn("a password could not be checked", e);
      throw e;
    } finally {
      java.util.Arrays.fill(secret, '\0');
    }
  }

  /**
   * {@code user} with a hash of the current parameters. The password was right: a rehash that
   * cannot have its memory is left for a later login rather than failing this one.
   */
  private User rehashed(User user, char[] secret) {
    String upgraded;
    try {
      upgraded = hasher.hash(secret);
    } catch (HashMemoryUnavailableException e) {
      log.warn("password of user {} not rehashed with the current Argon2id parameters: {}", user.username(),
          e.getMessage());
      return user;
    }
    store.updatePasswordHash(user.subject(), upgraded);
    log.info("rehashed password of user {} with the current Argon2id parameters", user.username());
    return user.withPasswordHash(upgraded);
  }

  /** Creates an account; throws INVALID_ARGUMENT for a bad name, password or role. */
  public User create(String username, String password, List<String> roles) {
    requireValidUsername(username);
    requireValidPassword(password);
    List<String> cleanRoles = validRoles(roles);
    char[] secret = password.toCharArray();
    String hash;
    try {
      hash = hasher.hash(secret);
    } catch (HashMemoryUnavailableException e) {
      noMemoryWarnings.warn("a password could not be hashed", e);
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE, NO_HASH_MEMORY, e);
    } finally {
      java.util.Arrays.fill(secret, '\0');
    }
    User user = new User(UUID.randomUUID().toString(), username, hash, cleanRoles, false,
        clock.instant().truncatedTo(ChronoUnit.MILLIS));
    try {
      store.insert(user);
    } catch (DuplicateUsernameException e) {
      throw new ServiceException(ServiceException.Kind.ALREADY_EXISTS,
          "a user named '" + username + "' already exists");
    }
    return user;
  }

  public User disable(String username) {
    if (username.isEmpty()) {
      throw ServiceException.invalid("username must not be empty");
    }
    if (username.length() > MAX_USERNAME_LENGTH) {
      throw ServiceException.invalid("username must be at most " + MAX_USERNAME_LENGTH + " characters");
    }
    return store.disable(username).orElseThrow(() -> new ServiceException(
        ServiceException.Kind.NOT_FOUND, "no user named '" + username + "'"));
  }

  public Optional<User> findBySubject(String subject) {
    return store.findBySubject(subject);
  }

  public Optional<User> findByUsername(String username) {
    return store.findByUsername(username);
  }

  public List<User> list(Optional<String> afterUsername, int limit) {
    return store.list(afterUsername, limit);
  }

  /**
   * Creates the first administrator when no enabled admin exists. Returns whether one was
   * created.
   */
  public boolean bootstrapAdmin(String username, String password) {
    if (store.anyEnabledUserWithRole(User.ROLE_ADMIN)) {
      return false;
    }
    try {
      create(username, password, List.of(User.ROLE_ADMIN));
      return true;
    } catch (ServiceException e) {
      if (e.kind() == ServiceException.Kind.ALREADY_EXISTS) {
        log.warn("bootstrap admin '{}' exists but is not an enabled admin; not changed", username);
        return false;
      }
      throw new IllegalArgumentException("bootstrap admin: " + e.publicMessage(), e);
    }
  }

  private static void requireValidUsername(String username) {
    if (!USERNAME.matcher(username).matches()) {
      throw ServiceException.invalid("username must be 1 to " + MAX_USERNAME_LENGTH
          + " characters of letters, digits and . _ @ + -, starting with a letter or digit");
    }
  }

  private static void requireValidPassword(String password) {
    int length = password.codePointCount(0, password.length());
    if (length < MIN_PASSWORD_LENGTH || password.length() > MAX_PASSWORD_LENGTH) {
      throw ServiceException.invalid("password must be " + MIN_PASSWORD_LENGTH + " to "
          + MAX_PASSWORD_LENGTH + " characters");
    }
  }

  private static List<String> validRoles(List<String> roles) {
    if (roles.size() > MAX_ROLES) {
      throw ServiceException.invalid("at most " + MAX_ROLES + " roles");
    }
    LinkedHashSet<String> unique = new LinkedHashSet<>();
    for (String role : roles) {
      if (!ROLE.matcher(role).matches()) {
        throw ServiceException.invalid("role '" + truncate(role)
            + "' must be 1 to 64 lower-case letters, digits, _ or -, starting with a letter");
      }
      unique.add(role);
    }
    return new ArrayList<>(unique);
  }

  private static String truncate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }

}
