package dev.authservice.server.usecase;

import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.password.HashMemoryUnavailableException;
import dev.authservice.server.revocation.Revocation;
import dev.authservice.server.revocation.RevocationList;
import dev.authservice.server.session.RefreshRecord;
import dev.authservice.server.session.Sessions;
import dev.authservice.server.throttle.LoginThrottle;
import dev.authservice.server.token.IssuedToken;
import dev.authservice.server.token.TokenIssuer;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.Verification;
import dev.authservice.server.user.LoginAttempt;
import dev.authservice.server.user.User;
import dev.authservice.server.user.UserService;
import java.time.Duration;
import java.util.Optional;

/**
 * The token lifecycle: login (throttled, then credentials, then an access token and a refresh
 * token), refresh with rotation and reuse detection, and RFC 7009 revocation. Every step is
 * audited; every refusal a client sees says the same thing however it came about.
 */
public final class LoginService {
  public static final String BAD_CREDENTIALS = "invalid username or password";
  public static final String BAD_REFRESH_TOKEN = "the refresh token is not valid; log in again";

  private final UserService users;
  private final LoginThrottle throttle;
  private final Sessions sessions;
  private final TokenIssuer issuer;
  private final TokenVerifier verifier;
  private final RevocationList revocations;
  private final AuditLog audit;
  private final Duration clockSkew;
  private final AudiencePolicy audiences;
  private final UseCaseMetrics metrics;

  public LoginService(UserService users, LoginThrottle throttle, Sessions sessions, TokenIssuer issuer,
      TokenVerifier verifier, RevocationList revocations, AuditLog audit, Duration clockSkew,
      AudiencePolicy audiences, UseCaseMetrics metrics) {
    this.audiences = audiences;
    this.metrics = metrics;
    this.users = users;
    this.throttle = throttle;
    this.sessions = sessions;
    this.issuer = issuer;
    this.verifier = verifier;
    this.revocations = revocations;
    this.audit = audit;
    this.clockSkew = clockSkew;
  }

  /** Tokens handed out by a login or a refresh. */
  public record Tokens(IssuedToken access, Sessions.Issued refresh) {}

  /** {@code audience}: empty for the default one. */
  public Tokens login(String username, String password, String requestedAudience, Caller caller) {
    String invalid = RequestLimits.first(
        RequestLimits.required("username", username, UserService.MAX_USERNAME_LENGTH),
        RequestLimits.required("password", password, UserService.MAX_PASSWORD_LENGTH),
        RequestLimits.optional("audience", requestedAudience, RequestLimits.MAX_NAME_LENGTH),
        requestedAudience.isEmpty() || audiences.allowed(requestedAudience) ? null
            : "audience '" + requestedAudience + "' is not one this server issues tokens for");
    if (invalid != null) {
      audit.event(AuditEventType.LOGIN, caller)
          .username(username.length() <= UserService.MAX_USERNAME_LENGTH ? username : "").refused("invalid_argument");
      metrics.login(false, "invalid_argument");
      RequestLimits.reject(invalid);
    }
    String audience = requestedAudience.isEmpty() ? audiences.defaultAudience() : requestedAudience;
    LoginThrottle.Admission admission = throttle.admit(username, caller.clientIp());
    if (admission instanceof LoginThrottle.Refused refused) {
      LoginThrottle.Refusal refusal = refused.refusal();
      AuditLog.Entry event = audit.event(AuditEventType.LOGIN, caller).username(username);
      if (refusal == LoginThrottle.Refusal.ADDRESS_LIMITED) {
        event.refused(refusal.reason());
      } else {
        event.refusedForAccount(refusal.reason());
      }
      metrics.login(false, refusal.reason());
      throw new ServiceException(ServiceException.Kind.BAD_CREDENTIALS, BAD_CREDENTIALS);
    }
    LoginThrottle.Attempt attempt = (LoginThrottle.Attempt) admission;
    LoginAttempt checked;
    try {
      checked = users.authenticate(username, password);
    } catch (HashMemoryUnavailableException e) {
      // no password was compared: no failed login to count, and the caller may try again
      try {
        attempt.notChecked();
      } finally {
        audit.event(AuditEventType.LOGIN, caller).username(username).refusedForAccount("password_not_checked");
        metrics.login(false, "password_not_checked");
      }
      throw new ServiceException(ServiceException.Kind.UNAVAILABLE, UserService.NO_HASH_MEMORY, e);
    } catch (RuntimeException | Error e) {
      // counted all the same (the store may have failed after the check): a lock it started is said
      attempt.failed(false).ifPresent(lock -> auditLock(username, caller, lock));
      metrics.login(false, "error");
      throw e;
    }
    if (!checked.succeeded()) {
      // every kind of failure does the same work, or the time taken would tell them apart
      Optional<LoginThrottle.Lock> lock = attempt.failed(checked.failureReason().equals("unknown_user"));
      audit.event(AuditEventType.LOGIN, caller).username(username).failure(checked.failureReason());
      lock.ifPresent(l -> auditLock(username, caller, l));
      metrics.login(false, checked.failureReason());
      throw new ServiceException(ServiceException.Kind.BAD_CREDENTIALS, BAD_CREDENTIALS);
    }
    attempt.succeeded();
    User user = checked.user().orElseThrow();
    Sessions.Issued refresh = sessions.start(user.subject(), audience);
    IssuedToken access = issuer.issue(user, audience, refresh.record().sessionId());
    // both durable before the answer, in one group commit: one wait instead of two
    audit.successes(
        audit.event(AuditEventType.LOGIN, caller).username(user.username()).subject(user.subject())
            .tokenId(access.tokenId()),
        audit.event(AuditEventType.TOKEN_ISSUE, caller).username(user.username()).subject(user.subject())
            .tokenId(access.tokenId()));
    metrics.login(true, "");
    return new Tokens(access, refresh);
  }

  public Tokens refresh(String refreshToken, Caller caller) {
    String invalid = RequestLimits.required("refresh_token", refreshToken, RequestLimits.MAX_REFRESH_TOKEN_LENGTH);
    if (invalid != null) {
      audit.event(AuditEventType.TOKEN_REFRESH, caller).refused("invalid_argument");
      RequestLimits.reject(invalid);
    }
    Sessions.Outcome outcome = sessions.refresh(refreshToken);
    switch (outcome) {
      case Sessions.Outcome.Refused refused -> {
        AuditLog.Entry entry = audit.event(AuditEventType.TOKEN_REFRESH, caller);
        refused.record().ifPresentOrElse(r -> entry.subject(r.subject()).username(usernameOf(r.subject()))
            .failure(refused.reason()),
            // not a token we issued: anyone can send these, so they are counted, not written one by one
            () -> entry.refused(refused.reason()));
        throw new ServiceException(ServiceException.Kind.UNAUTHENTICATED, BAD_REFRESH_TOKEN);
      }
      case Sessions.Outcome.ReuseDetected reuse -> {
        // named by username too: a search for the user's events must find the theft of their session
        String username = usernameOf(reuse.record().subject());
        audit.event(AuditEventType.TOKEN_REFRESH, caller).subject(reuse.record().subject()).username(username)
            .failure("refresh_token_reuse");
        audit.event(AuditEventType.TOKEN_REVOKE, caller).subject(reuse.record().subject()).username(username)
            .tokenId("session:" + reuse.record().sessionId()).success();
        throw new ServiceException(ServiceException.Kind.UNAUTHENTICATED, BAD_REFRESH_TOKEN);
      }
      case Sessions.Outcome.Rotated rotated -> {
        RefreshRecord used = rotated.used();
        Optional<User> user = users.findBySubject(used.subject());
        if (user.isEmpty() || user.get().disabled()) {
          sessions.endSession(used.subject(), used.sessionId());
          audit.event(AuditEventType.TOKEN_REFRESH, caller).subject(used.subject()).failure("user_disabled");
          throw new ServiceException(ServiceException.Kind.UNAUTHENTICATED, BAD_REFRESH_TOKEN);
        }
        IssuedToken access = issuer.issue(user.get(), used.audience(), used.sessionId());
        audit.successes(
            audit.event(AuditEventType.TOKEN_REFRESH, caller).username(user.get().username())
                .subject(used.subject()).tokenId(access.tokenId()),
            audit.event(AuditEventType.TOKEN_ISSUE, caller).username(user.get().username())
                .subject(used.subject()).tokenId(access.tokenId()));
        return new Tokens(access, rotated.next());
      }
    }
  }

  /**
   * RFC 7009: a refresh token ends its session; an access token with a valid signature is
   * denied by {@code jti} until it expires; anything else is accepted and ignored.
   */
  public void revoke(String token, boolean hintRefresh, Caller caller) {
    String invalid = RequestLimits.required("token", token, TokenVerifier.MAX_TOKEN_LENGTH);
    if (invalid != null) {
      audit.event(AuditEventType.TOKEN_REVOKE, caller).refused("invalid_argument");
      RequestLimits.reject(invalid);
    }
    if (!hintRefresh || token.indexOf('.') >= 0) {
      Verification verification = verifier.verifySignatureOnly(token);
      if (verification.token().isPresent()) {
        var access = verification.token().get();
        boolean knownHere = revocations.holdsTokenRevocation(access.tokenId());
        // the store is still asked (and mended, should its document have been edited or deleted)
        boolean written = revocations.revoke(new Revocation(Revocation.Kind.TOKEN, access.tokenId(),
            Optional.of(access.expiresAt().plus(clockSkew))));
        AuditLog.Entry revoked = audit.event(AuditEventType.TOKEN_REVOKE, caller).username(access.username())
            .subject(access.subject()).tokenId(access.tokenId());
        if (knownHere && !written) {
          // revoked already, here and in the store: RFC 7009 answers as before, but a loop of these
          // costs no durable event each (the first of a minute is written whole)
          revoked.repeatedSuccess("already_revoked");
        } else {
          revoked.success();
        }
        return;
      }
    }
    Optional<RefreshRecord> refresh = sessions.lookup(token);
    if (refresh.isPresent()) {
      sessions.endSession(refresh.get().subject(), refresh.get().sessionId());
      audit.event(AuditEventType.TOKEN_REVOKE, caller).subject(refresh.get().subject())
          .username(usernameOf(refresh.get().subject()))
          .tokenId("session:" + refresh.get().sessionId()).success();
      return;
    }
    // RFC 7009 answers a token it does not know as any other; anyone can send one, so it is counted
    audit.event(AuditEventType.TOKEN_REVOKE, caller).refused("unknown_token");
  }

  private void auditLock(String username, Caller caller, LoginThrottle.Lock lock) {
    audit.event(AuditEventType.ACCOUNT_LOCKED, caller).username(username)
        .failure(lock.permanent() ? "locked_after_" + lock.failures() + "_failures"
            : "wait_until_" + lock.until().orElseThrow() + "_after_" + lock.failures() + "_failures");
  }

  /** The username of a subject, empty for one that no longer exists. */
  private String usernameOf(String subject) {
    return users.findBySubject(subject).map(User::username).orElse("");
  }

  /** Disabling a user also ends the user's tokens, everywhere, at once. */
  public User disableUser(String username) {
    User user = users.disable(username);
    revocations.revoke(new Revocation(Revocation.Kind.SUBJECT, user.subject(), Optional.empty()));
    sessions.endSessionsOf(user.subject());
    return user;
  }
}
