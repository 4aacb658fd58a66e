package dev.authservice.server.grpc;

import dev.authservice.server.usecase.Authorization;
import dev.authservice.server.usecase.TrailReading;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.user.User;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which callers each protected RPC admits. Methods not listed (Login, Refresh, Revoke, GetJwks,
 * GetAuditKeys, health, reflection, and Validate and Envoy's Check unless callers must authenticate)
 * are public.
 */
final class AccessPolicy {
  static final String ROLE_VALIDATOR = "validator";

  private final Map<String, Authorization.Rule> rules = new HashMap<>();

  AccessPolicy(boolean validateRequiresCaller) {
    Authorization.Rule auditReaders = new Authorization.Rule(TrailReading.READER_ROLES, false);
    Authorization.Rule admins = new Authorization.Rule(Set.of(User.ROLE_ADMIN), false);
    // admins before every rule that uses them
    rules.put(AuthServiceGrpc.getQueryAuditMethod().getFullMethodName(), auditReaders);
    rules.put(AuthServiceGrpc.getVerifyAuditMethod().getFullMethodName(), auditReaders);
    rules.put(AuthServiceGrpc.getListAuditCheckpointsMethod().getFullMethodName(), auditReaders);
    rules.put(AuthServiceGrpc.getStreamAuditMethod().getFullMethodName(), auditReaders);
    rules.put(AuthServiceGrpc.getSummarizeAuditMethod().getFullMethodName(), auditReaders);
    rules.put(AuthServiceGrpc.getRunReviewMethod().getFullMethodName(), admins);
    rules.put(UserAdminServiceGrpc.getCreateUserMethod().getFullMethodName(), admins);
    rules.put(UserAdminServiceGrpc.getDisableUserMethod().getFullMethodName(), admins);
    rules.put(UserAdminServiceGrpc.getListUsersMethod().getFullMethodName(), admins);
    rules.put(UserAdminServiceGrpc.getUnlockUserMethod().getFullMethodName(), admins);
    rules.put(KeyAdminServiceGrpc.getRotateSigningKeyMethod().getFullMethodName(), admins);
    rules.put(KeyAdminServiceGrpc.getRotateAuditSigningKeyMethod().getFullMethodName(), admins);
    if (validateRequiresCaller) {
      Authorization.Rule validators = new Authorization.Rule(Set.of(ROLE_VALIDATOR, User.ROLE_ADMIN), true);
      rules.put(AuthServiceGrpc.getValidateMethod().getFullMethodName(), validators);
      // Envoy's Check answers the same question as Validate, so it admits the same callers
      rules.put(AuthorizationGrpc.getCheckMethod().getFullMethodName(), validators);
    }
  }

  /** The rule for a method, or empty for a public one. */
  Optional<Authorization.Rule> rule(String fullMethodName) {
    return Optional.ofNullable(rules.get(fullMethodName));
  }
}
