package dev.authservice.server;

import io.envoyproxy.envoy.config.core.v3.Address;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * CheckRequests as Envoy's ext_authz filter builds them, and what Envoy then does with an OK
 * answer's header mutations (in the order of its ext_authz filter: set, add, append, then remove).
 */
final class EnvoyChecks {
  private EnvoyChecks() {}

  static AuthorizationGrpc.AuthorizationBlockingStub stub(TestServer server) {
    // a deadline per call, as Envoy's timeout is: a stub-wide deadline would expire in a long-lived test class
    return AuthorizationGrpc.newBlockingStub(server.channel()).withInterceptors(new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(MethodDescriptor<ReqT, RespT> method,
          CallOptions options, Channel next) {
        return next.newCall(method, options.withDeadlineAfter(20, TimeUnit.SECONDS));
      }
    });
  }

  static Request get(String path) {
    return new Request("GET", path);
  }

  /** One HTTP request as the downstream client sent it. */
  static final class Request {
    private final String method;
    private final String path;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final List<String[]> rawHeaders = new ArrayList<>();
    private String sourceAddress = "198.51.100.7";
    private String sourcePrincipal = "";

    Request(String method, String path) {
      this.method = method;
      this.path = path;
      headers.put(":authority", "shop.example");
      headers.put(":method", method);
      headers.put(":path", path);
      headers.put(":scheme", "https");
      headers.put("user-agent", "curl/8.5.0");
      headers.put("x-request-id", "6b1a4c1e-0000-4000-8000-000000000001");
    }

    /** A header in the {@code headers} map, under exactly this name. */
    Request header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    Request bearer(String token) {
      return header("authorization", "Bearer " + token);
    }

    /** A header line in {@code header_map}, as Envoy sends them with {@code encode_raw_headers}. */
    Request rawHeader(String name, String value) {
      rawHeaders.add(new String[] {name, value});
      return this;
    }

    Request source(String address, String principal) {
      sourceAddress = address;
      sourcePrincipal = principal;
      return this;
    }

    Map<String, String> headers() {
      return headers;
    }

    CheckRequest build() {
      AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder()
          .setId("6b1a4c1e-0000-4000-8000-000000000001").setMethod(method).setPath(path).setHost("shop.example")
          .setScheme("https").setProtocol("HTTP/2");
      if (rawHeaders.isEmpty()) {
        http.putAllHeaders(headers);
      } else {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        headers.forEach((k, v) -> map.addHeaders(HeaderValue.newBuilder().setKey(k)
            .setRawValue(com.google.protobuf.ByteString.copyFromUtf8(v))));
        rawHeaders.forEach(h -> map.addHeaders(HeaderValue.newBuilder().setKey(h[0])
            .setRawValue(com.google.protobuf.ByteString.copyFromUtf8(h[1]))));
        http.setHeaderMap(map);
      }
      return CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
          .setSource(AttributeContext.Peer.newBuilder().setPrincipal(sourcePrincipal)
              .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                  .setAddress(sourceAddress).setPortValue(53211))))
          .setDestination(AttributeContext.Peer.newBuilder().setAddress(Address.newBuilder()
              .setSocketAddress(SocketAddress.newBuilder().setAddress("10.0.0.5").setPortValue(8080))))
          .setRequest(AttributeContext.Request.newBuilder().setHttp(http)))
          .build();
    }
  }

  /**
   * The headers the upstream receives: the client's, changed as Envoy's ext_authz filter changes
   * them for an OK answer (set replaces every value, add and append keep the client's beside ours,
   * then removals). Names lower case; a header repeated has several values.
   */
  static Map<String, List<String>> upstreamHeaders(Map<String, String> client, CheckResponse response) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    client.forEach((name, value) -> headers.computeIfAbsent(name.toLowerCase(Locale.ROOT), n -> new ArrayList<>())
        .add(value));
    for (HeaderValueOption option : response.getOkResponse().getHeadersList()) {
      String name = option.getHeader().getKey().toLowerCase(Locale.ROOT);
      String value = option.getHeader().getValue();
      HeaderValueOption.HeaderAppendAction action = option.hasAppend()
          ? (option.getAppend().getValue() ? HeaderValueOption.HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
              : HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
          : option.getAppendAction();
      switch (action) {
        case OVERWRITE_IF_EXISTS_OR_ADD -> headers.put(name, new ArrayList<>(List.of(value)));
        case ADD_IF_ABSENT -> headers.computeIfAbsent(name, n -> new ArrayList<>(List.of(value)));
        case OVERWRITE_IF_EXISTS -> headers.computeIfPresent(name, (n, v) -> new ArrayList<>(List.of(value)));
        default -> headers.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
      }
    }
    for (String name : response.getOkResponse().getHeadersToRemoveList()) {
      if (!name.startsWith(":") && !name.equalsIgnoreCase("host")) {
        headers.remove(name.toLowerCase(Locale.ROOT));
      }
    }
    return headers;
  }

  /** A header of a denied answer's local reply. */
  static String deniedHeader(CheckResponse response, String name) {
    return response.getDeniedResponse().getHeadersList().stream()
        .filter(h -> h.getHeader().getKey().equalsIgnoreCase(name)).map(h -> h.getHeader().getValue())
        .findFirst().orElse(null);
  }
}
