package dev.authservice.server.grpc;

import dev.authservice.server.core.Caller;
import dev.authservice.server.usecase.ExternalAuthorization;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * envoy.service.auth.v3.Authorization: Envoy's ext_authz filter asks, for each HTTP request, whether
 * it may pass. Maps the CheckRequest to {@link ExternalAuthorization} and its decision back
 * ({@link CheckResponses}); a decision, allow or deny, is an OK RPC. Only our own failures are RPC
 * errors (UNAVAILABLE...), which Envoy's {@code failure_mode_allow} decides about.
 */
final class ExternalAuthzService extends AuthorizationGrpc.AuthorizationImplBase {
  private final ExternalAuthorization authorization;
  private final CheckResponses responses;
  private final Rpcs rpcs;

  ExternalAuthzService(ExternalAuthorization authorization, CheckResponses responses, Rpcs rpcs) {
    this.authorization = authorization;
    this.responses = responses;
    this.rpcs = rpcs;
  }

  @Override
  public void check(CheckRequest request, StreamObserver<CheckResponse> observer) {
    rpcs.unary(observer, () -> {
      AttributeContext attributes = request.getAttributes();
      Optional<ExternalAuthorization.HttpRequest> http = http(attributes);
      Caller caller = ForwardedCaller.of(CallContext.caller(), CallContext.vouchedFor(), attributes.getSource(), http);
      return switch (authorization.check(http, caller)) {
        case ExternalAuthorization.Allowed allowed -> responses.allowed(allowed.token(), http);
        case ExternalAuthorization.Denied denied -> responses.denied(denied);
      };
    });
  }

  /**
   * The HTTP request, or empty when Envoy sent none (its network filter). Headers come from
   * {@code headers} (lower-cased by Envoy, repeated ones joined with commas) and {@code header_map}
   * (Envoy's {@code encode_raw_headers}: one entry per header line, raw bytes), whichever is set.
   */
  private static Optional<ExternalAuthorization.HttpRequest> http(AttributeContext attributes) {
    if (!attributes.hasRequest() || !attributes.getRequest().hasHttp()) {
      return Optional.empty();
    }
    AttributeContext.HttpRequest http = attributes.getRequest().getHttp();
    List<ExternalAuthorization.Header> headers = new ArrayList<>();
    for (Map.Entry<String, String> header : http.getHeadersMap().entrySet()) {
      headers.add(new ExternalAuthorization.Header(header.getKey(), header.getValue()));
    }
    for (HeaderValue header : http.getHeaderMap().getHeadersList()) {
      String value = header.getValue().isEmpty() ? header.getRawValue().toString(StandardCharsets.UTF_8)
          : header.getValue();
      headers.add(new ExternalAuthorization.Header(header.getKey(), value));
    }
    return Optional.of(new ExternalAuthorization.HttpRequest(http.getMethod(), http.getPath(), headers));
  }
}
