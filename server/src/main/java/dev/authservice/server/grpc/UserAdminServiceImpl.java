package dev.authservice.server.grpc;

import dev.authservice.server.paging.PageSizes;

import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.CreateUserResponse;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.DisableUserResponse;
import dev.authservice.proto.auth.v1.ListUsersRequest;
import dev.authservice.proto.auth.v1.ListUsersResponse;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.user.User;
import dev.authservice.server.user.UserService;
import dev.authservice.proto.auth.v1.UnlockUserRequest;
import dev.authservice.proto.auth.v1.UnlockUserResponse;
import dev.authservice.server.usecase.LoginService;
import dev.authservice.server.throttle.FailureRecord;
import dev.authservice.server.throttle.LoginThrottle;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** auth.v1.UserAdminService; the interceptor has already required the {@code admin} role. */
final class UserAdminServiceImpl extends UserAdminServiceGrpc.UserAdminServiceImplBase {
  private static final String LIST_USERS_SCOPE = "auth.v1.UserAdminService/ListUsers";

  private final UserService users;
  private final LoginService logins;
  private final LoginThrottle throttle;
  private final AuditLog audit;
  private final PageTokens pageTokens;
  private final Rpcs rpcs;

  UserAdminServiceImpl(UserService users, LoginService logins, LoginThrottle throttle, AuditLog audit,
      PageTokens pageTokens, Rpcs rpcs) {
    this.users = users;
    this.logins = logins;
    this.throttle = throttle;
    this.audit = audit;
    this.pageTokens = pageTokens;
    this.rpcs = rpcs;
  }

  @Override
  public void createUser(CreateUserRequest request, StreamObserver<CreateUserResponse> observer) {
    Caller caller = CallContext.caller();
    rpcs.unary(observer, () -> audited(AuditEventType.USER_CREATE, caller, request.getUsername(), () -> {
      User user = users.create(request.getUsername(), request.getPassword(), request.getRolesList());
      return CreateUserResponse.newBuilder().setUser(toProto(user)).build();
    }));
  }

  @Override
  public void disableUser(DisableUserRequest request, StreamObserver<DisableUserResponse> observer) {
    Caller caller = CallContext.caller();
    rpcs.unary(observer, () -> audited(AuditEventType.USER_DISABLE, caller, request.getUsername(), () -> {
      User user = logins.disableUser(request.getUsername(), caller);
      return DisableUserResponse.newBuilder().setUser(toProto(user)).build();
    }));
  }

  @Override
  public void unlockUser(UnlockUserRequest request, StreamObserver<UnlockUserResponse> observer) {
    Caller caller = CallContext.caller();
    rpcs.unary(observer, () -> audited(AuditEventType.USER_UNLOCK, caller, request.getUsername(), () -> {
      String username = request.getUsername();
      if (username.isEmpty() || username.length() > UserService.MAX_USERNAME_LENGTH) {
        throw ServiceException.invalid("username must be 1 to " + UserService.MAX_USERNAME_LENGTH + " characters");
      }
      boolean wasThrottled = throttle.unlock(username);
      User user = users.findByUsername(username).orElseThrow(() -> wasThrottled
          // failures of a name nobody has are cleared too, but there is no user to return
          ? new ServiceException(ServiceException.Kind.NOT_FOUND, "no user named '" + username
              + "'; its failed-login count was cleared")
          : new ServiceException(ServiceException.Kind.NOT_FOUND, "no user named '" + username + "'"));
      return UnlockUserResponse.newBuilder().setUser(toProto(user)).build();
    }));
  }

  @Override
  public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> observer) {
    rpcs.unary(observer, () -> {
      int pageSize = PageSizes.pageSize(request.getPageSize());
      Optional<String> after = request.getPageToken().isEmpty() ? Optional.empty()
          : Optional.of(single(pageTokens.decode(LIST_USERS_SCOPE, "", request.getPageToken())));
      List<User> found = users.list(after, pageSize + 1);
      boolean more = found.size() > pageSize;
      List<User> page = more ? found.subList(0, pageSize) : found;
      ListUsersResponse.Builder response = ListUsersResponse.newBuilder();
      Map<String, FailureRecord> locks = throttle.states(page.stream().map(User::username).toList());
      page.forEach(u -> response.addUsers(ProtoMapper.user(u, Optional.ofNullable(locks.get(u.username())))));
      if (more) {
        response.setNextPageToken(pageTokens.encode(LIST_USERS_SCOPE, "",
            List.of(page.get(page.size() - 1).username())));
      }
      return response.build();
    });
  }

  /** Runs an admin action and records it, successful or refused, as one audit event. */
  private <T> T audited(AuditEventType type, Caller caller, String username, Supplier<T> action) {
    String subject = username.length() <= UserService.MAX_USERNAME_LENGTH ? username : "";
    try {
      T result = action.get();
      audit.event(type, caller).username(subject).success();
      return result;
    } catch (ServiceException e) {
      audit.event(type, caller).username(subject).failure(e.kind().name().toLowerCase(java.util.Locale.ROOT));
      throw e;
    }
  }

  private dev.authservice.proto.auth.v1.User toProto(User user) {
    return ProtoMapper.user(user, throttle.state(user.username()));
  }

  private static String single(List<String> position) {
    if (position.size() != 1) {
      throw ServiceException.invalid("page_token is not valid: pass next_page_token unchanged");
    }
    return position.get(0);
  }
}
