package dev.authservice.server.grpc;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.server.usecase.CallerRecheck;
import dev.authservice.server.usecase.StreamSettings;
import dev.authservice.server.usecase.StreamSlots;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.audit.chain.AuditVerification;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.review.SuspiciousActivityReview;
import dev.authservice.server.audit.write.StoreHealth;
import dev.authservice.server.usecase.LoginService;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.throttle.LoginThrottle;
import dev.authservice.server.keys.JwkSet;
import dev.authservice.server.keys.SigningKeys;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.usecase.ValidationService;
import dev.authservice.server.user.UserService;
import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import java.util.List;
import java.util.Set;

/** The auth.v1 services and the interceptor they run behind, wired from the capabilities. */
public final class GrpcServices {
  private final List<BindableService> services;
  private final ServerInterceptor interceptor;
  private final ServerInterceptor storeGate;

  /** What the services are built from. */
  public record Parts(UserService users, LoginService logins, LoginThrottle throttle,
      ValidationService validation, TokenVerifier verifier, SigningKeys keys, AuditLog audit,
      EventReads auditStore, CheckpointStore checkpoints, AuditVerification verification, AuditSigner auditKeys,
      SuspiciousActivityReview review, java.time.Clock clock,
      PageTokens pageTokens, String defaultAudience, Set<String> allowedAudiences,
      List<String> trustedProxies, boolean validateRequiresCaller, StoreHealth storeHealth,
      StreamSettings streams, int summaryMaxRows) {}

  public GrpcServices(Parts p) {
    Rpcs rpcs = new Rpcs();
    AudiencePolicy audiences = new AudiencePolicy(p.defaultAudience(), p.allowedAudiences());
    AccessPolicy policy = new AccessPolicy(p.validateRequiresCaller());
    Set<String> streamRoles = policy.rule(AuthServiceGrpc.getStreamAuditMethod().getFullMethodName())
        .orElseThrow().roles();
    AuditTrailRpcs trail = new AuditTrailRpcs(p.audit(), p.auditStore(), p.checkpoints(), p.verification(),
        p.pageTokens(), new StreamSlots(p.streams()),
        new CallerRecheck(p.verifier(), p.users(), p.clock(), p.streams().recheckInterval()), streamRoles,
        p.summaryMaxRows());
    this.services = List.of(
        new AuthServiceImpl(p.logins(), p.validation(), new JwkSet(p.keys()), p.audit(), trail,
            p.auditKeys(), p.review(), p.clock(), audiences, rpcs),
        new UserAdminServiceImpl(p.users(), p.logins(), p.throttle(), p.audit(), p.pageTokens(), rpcs),
        new KeyAdminServiceImpl(p.keys(), p.auditKeys(), p.audit(), rpcs));
    this.interceptor = new CallerInterceptor(new ClientAddresses(p.trustedProxies()),
        policy, p.verifier(), p.audit(), rpcs);
    this.storeGate = new StoreGate(p.storeHealth());
  }

  /** The services, each refusing a malformed request with INVALID_ARGUMENT. */
  public List<ServerServiceDefinition> services() {
    return services.stream().map(s -> MalformedRequests.guard(s.bindService())).toList();
  }

  /** Interceptors in the order calls pass them: the store gate first, then the caller. */
  public List<ServerInterceptor> interceptors() {
    // ServerBuilder.intercept wraps: the last added runs first
    return List.of(interceptor, storeGate);
  }
}
