package dev.authservice.server.grpc;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.user.User;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which roles each protected RPC needs. Any method not listed here (Login, Validate, health,
 * reflection) is public.
 */
final class AccessPolicy {
  private static final Set<String> AUDIT_READERS = Set.of(User.ROLE_AUDITOR, User.ROLE_ADMIN);
  private static final Set<String> ADMINS = Set.of(User.ROLE_ADMIN);

  private final Map<String, Set<String>> rolesByMethod = Map.of(
      AuthServiceGrpc.getQueryAuditMethod().getFullMethodName(), AUDIT_READERS,
      UserAdminServiceGrpc.getCreateUserMethod().getFullMethodName(), ADMINS,
      UserAdminServiceGrpc.getDisableUserMethod().getFullMethodName(), ADMINS,
      UserAdminServiceGrpc.getListUsersMethod().getFullMethodName(), ADMINS);

  /** The roles of which the caller needs at least one, or empty for a public method. */
  Optional<Set<String>> requiredRoles(String fullMethodName) {
    return Optional.ofNullable(rolesByMethod.get(fullMethodName));
  }
}
