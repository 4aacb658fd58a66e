package dev.authservice.server.grpc;

import dev.authservice.server.usecase.UserAdministration;

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

  private final UserAdministration accounts;
  private final PageTokens pageTokens;
  private final Rpcs rpcs;

  UserAdminServiceImpl(UserAdministration accounts, PageTokens pageTokens, Rpcs rpcs) {
    this.accounts = accounts;
    this.pageTokens = pageTokens;
    this.rpcs = rpcs;
  }

  @Override
  public void createUser(CreateUserRequest request, StreamObserver<CreateUserResponse> observer) {
    rpcs.unary(observer, () -> CreateUserResponse.newBuilder().setUser(ProtoMapper.user(accounts.create(
        request.getUsername(), request.getPassword(), request.getRolesList(), CallContext.caller()))).build());
  }

  @Override
  public void disableUser(DisableUserRequest request, StreamObserver<DisableUserResponse> observer) {
    rpcs.unary(observer, () -> DisableUserResponse.newBuilder().setUser(ProtoMapper.user(
        accounts.disable(request.getUsername(), CallContext.caller()))).build());
  }

  @Override
  public void unlockUser(UnlockUserRequest request, StreamObserver<UnlockUserResponse> observer) {
    rpcs.unary(observer, () -> UnlockUserResponse.newBuilder().setUser(ProtoMapper.user(
        accounts.unlock(request.getUsername(), CallContext.caller()))).build());
  }

  @Override
  public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> observer) {
    rpcs.unary(observer, () -> {
      int pageSize = PageSizes.pageSize(request.getPageSize());
      Optional<String> after = request.getPageToken().isEmpty() ? Optional.empty()
          : Optional.of(single(pageTokens.decode(LIST_USERS_SCOPE, "", request.getPageToken())));
      List<UserAdministration.Account> found = accounts.list(after, pageSize + 1);
      boolean more = found.size() > pageSize;
      List<UserAdministration.Account> page = more ? found.subList(0, pageSize) : found;
      ListUsersResponse.Builder response = ListUsersResponse.newBuilder();
      page.forEach(a -> response.addUsers(ProtoMapper.user(a)));
      if (more) {
        response.setNextPageToken(pageTokens.encode(LIST_USERS_SCOPE, "",
            List.of(page.get(page.size() - 1).user().username())));
      }
      return response.build();
    });
  }

  private static String single(List<String> position) {
    if (position.size() != 1) {
      throw ServiceException.invalid(PageTokens.TokenField.PAGE_TOKEN.notValid());
    }
    return position.get(0);
  }
}
