package dev.authservice.server.grpc;

import dev.authservice.server.audit.write.StoreHealth;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.usecase.UseCases;
import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import dev.authservice.server.core.ThrottledLines;
import java.time.Clock;
import java.util.List;


/**
 * The auth.v1 services, Envoy's envoy.service.auth.v3.Authorization, and the interceptors they run
 * behind, wired from the capabilities.
 */
public final class GrpcServices {
  private final List<BindableService> services;
  private final ServerInterceptor interceptor;
  private final ServerInterceptor storeGate;
  private final Rpcs rpcs;
  /** The log lines about malformed calls, of every service together. */
  private final ThrottledLines refusedCallLines;
  /** Lines a minute about calls refused as malformed; past them, the next line counts the rest. */
  public static final int REFUSED_CALL_LINES_PER_MINUTE = 20;

  /** How the transport itself treats callers, and what Envoy's Check answers carry. */
  public record EdgeSettings(List<String> trustedProxies, boolean validateRequiresCaller, CheckHeaders checkHeaders) {}

  public GrpcServices(UseCases cases, PageTokens pageTokens, StoreHealth storeHealth, EdgeSettings settings,
      Clock clock) {
    Rpcs rpcs = new Rpcs();
    this.services = List.of(
        new AuthServiceImpl(cases.logins(), cases.validation(), cases.tokenKeys(),
            new AuditTrailRpcs(cases.trail(), pageTokens), cases.auditKeys(), cases.review(), clock, rpcs),
        new UserAdminServiceImpl(cases.accounts(), pageTokens, rpcs),
        new KeyAdminServiceImpl(cases.keyAdministration(), rpcs),
        new ExternalAuthzService(cases.externalAuthorization(), new CheckResponses(settings.checkHeaders()), rpcs));
    this.interceptor = new CallerInterceptor(new ClientAddresses(settings.trustedProxies()),
        new AccessPolicy(settings.validateRequiresCaller()), cases.authorization(), rpcs);
    this.storeGate = new StoreGate(storeHealth, rpcs);
    this.rpcs = rpcs;
    this.refusedCallLines = new ThrottledLines(clock, REFUSED_CALL_LINES_PER_MINUTE, java.time.Duration.ofMinutes(1));
  }

  /** The services, each refusing a malformed request with INVALID_ARGUMENT. */
  public List<ServerServiceDefinition> services() {
    return services.stream().map(s -> MalformedRequests.guard(s.bindService(), rpcs, refusedCallLines)).toList();
  }

  /** Interceptors in the order calls pass them: the store gate first, then the caller. */
  public List<ServerInterceptor> interceptors() {
    // ServerBuilder.intercept wraps: the last added runs first
    return List.of(interceptor, storeGate);
  }
}
