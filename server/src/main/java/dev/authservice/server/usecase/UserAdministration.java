package dev.authservice.server.usecase;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.throttle.FailureRecord;
import dev.authservice.server.throttle.LoginThrottle;
import dev.authservice.server.user.User;
import dev.authservice.server.user.UserService;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The admin's account actions: create, disable (with every token of the account), unlock, list.
 * Each action is one audit event, successful or refused.
 */
public final class UserAdministration {
  /** An account as an admin sees it: with its lock, if one holds now. */
  public record Account(User user, boolean lockedPermanently, Optional<Instant> lockedUntil) {}

  private final UserService users;
  private final LoginService logins;
  private final LoginThrottle throttle;
  private final AuditLog audit;
  private final Clock clock;

  public UserAdministration(UserService users, LoginService logins, LoginThrottle throttle, AuditLog audit,
      Clock clock) {
    this.users = users;
    this.logins = logins;
    this.throttle = throttle;
    this.audit = audit;
    this.clock = clock;
  }

  public Account create(String username, String password, List<String> roles, Caller caller) {
    return audited(AuditEventType.USER_CREATE, caller, username,
        () -> account(users.create(username, password, roles)));
  }

  public Account disable(String username, Caller caller) {
    return audited(AuditEventType.USER_DISABLE, caller, username, () -> account(logins.disableUser(username)));
  }

  /** Clears the failures and any lock; NOT_FOUND for a name nobody has (its failures are cleared all the same). */
  public Account unlock(String username, Caller caller) {
    return audited(AuditEventType.USER_UNLOCK, caller, username, () -> {
      RequestLimits.reject(RequestLimits.required("username", username, UserService.MAX_USERNAME_LENGTH));
      boolean hadFailures = throttle.unlock(username);
      User user = users.findByUsername(username).orElseThrow(() -> new ServiceException(ServiceException.Kind.NOT_FOUND,
          "no user named '" + username + "'" + (hadFailures ? "; its failed-login count was cleared" : "")));
      return account(user);
    });
  }

  /** Up to {@code limit} accounts after {@code afterUsername}, by username. */
  public List<Account> list(Optional<String> afterUsername, int limit) {
    List<User> page = users.list(afterUsername, limit);
    Map<String, FailureRecord> locks = throttle.states(page.stream().map(User::username).toList());
    List<Account> accounts = new ArrayList<>(page.size());
    page.forEach(u -> accounts.add(account(u, Optional.ofNullable(locks.get(u.username())))));
    return accounts;
  }

  private Account account(User user) {
    return account(user, throttle.state(user.username()));
  }

  private Account account(User user, Optional<FailureRecord> failures) {
    Instant now = clock.instant();
    return new Account(user, failures.map(FailureRecord::lockedPermanently).orElse(false),
        failures.flatMap(FailureRecord::lockedUntil).filter(until -> until.isAfter(now)));
  }

  /** Runs an admin action and records it, successful or refused, as one audit event. */
  private <T> T audited(AuditEventType type, Caller caller, String username, Supplier<T> action) {
    String named = username.length() <= UserService.MAX_USERNAME_LENGTH ? username : "";
    try {
      T result = action.get();
      audit.event(type, caller).username(named).success();
      return result;
    } catch (ServiceException e) {
      audit.event(type, caller).username(named).failure(e.kind().name().toLowerCase(Locale.ROOT));
      throw e;
    }
  }
}
