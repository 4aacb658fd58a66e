package dev.authservice.server.grpc;

import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.AuditStore;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.token.TokenIssuer;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.user.UserService;
import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import java.util.List;
import java.util.Set;

/** The auth.v1 services and the interceptor they run behind, wired from the capabilities. */
public final class GrpcServices {
  private final List<BindableService> services;
  private final ServerInterceptor interceptor;

  public GrpcServices(UserService users, TokenIssuer issuer, TokenVerifier verifier, AuditLog audit,
      AuditStore auditStore, PageTokens pageTokens, String defaultAudience,
      Set<String> allowedAudiences, List<String> trustedProxies) {
    Rpcs rpcs = new Rpcs();
    AudiencePolicy audiences = new AudiencePolicy(defaultAudience, allowedAudiences);
    this.services = List.of(
        new AuthServiceImpl(users, issuer, verifier, audit, auditStore, pageTokens, audiences, rpcs),
        new UserAdminServiceImpl(users, audit, pageTokens, rpcs));
    this.interceptor = new CallerInterceptor(new ClientAddresses(trustedProxies), new AccessPolicy(),
        verifier, audit, rpcs);
  }

  public List<BindableService> services() {
    return services;
  }

  public ServerInterceptor interceptor() {
    return interceptor;
  }
}
