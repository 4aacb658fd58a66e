package dev.authservice.bench;

import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;

/** A CheckRequest of the size and shape Envoy's ext_authz HTTP filter sends for a browser-ish GET. */
final class EnvoyCheckRequests {
  private EnvoyCheckRequests() {}

  static CheckRequest get(String path, String accessToken) {
    AttributeContext.HttpRequest http = AttributeContext.HttpRequest.newBuilder()
        .setId("6b1a4c1e-0000-4000-8000-000000000001").setMethod("GET").setPath(path).setHost("shop.example")
        .setScheme("https").setProtocol("HTTP/2")
        .putHeaders(":authority", "shop.example").putHeaders(":method", "GET").putHeaders(":path", path)
        .putHeaders(":scheme", "https").putHeaders("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench")
        .putHeaders("accept", "application/json").putHeaders("x-request-id", "6b1a4c1e-0000-4000-8000-000000000001")
        .putHeaders("x-forwarded-proto", "https").putHeaders("authorization", "Bearer " + accessToken)
        .build();
    return CheckRequest.newBuilder().setAttributes(AttributeContext.newBuilder()
        .setSource(peer("198.51.100.7", 53211))
        .setDestination(peer("10.0.0.5", 8080))
        .setRequest(AttributeContext.Request.newBuilder().setHttp(http)))
        .build();
  }

  private static AttributeContext.Peer peer(String address, int port) {
    return AttributeContext.Peer.newBuilder().setAddress(Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(address).setPortValue(port))).build();
  }
}
