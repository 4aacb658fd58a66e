package dev.authservice.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * deploy/envoy/envoy.yaml as Envoy reads it: converted to JSON and parsed by protobuf's JsonFormat
 * into Envoy's own Bootstrap message (unknown fields, misspelt enums and wrong types fail, as in
 * Envoy), with the typed_config extensions it names. Then what the auth service needs of it: the
 * ext_authz filter asks our cluster, over HTTP/2, on the server's default port, within Envoy's
 * default 200 ms, fails closed, and passes the headers Check reads and rewrites.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EnvoyConfigTest {
  private static final String FILE = "deploy/envoy/envoy.yaml";
  private static final Duration ENVOY_DEFAULT_TIMEOUT = Durations.fromMillis(200);

  private Bootstrap bootstrap;
  private HttpConnectionManager manager;
  private ExtAuthz extAuthz;

  static Bootstrap parse(Object yaml) throws InvalidProtocolBufferException {
    JsonFormat.TypeRegistry types = JsonFormat.TypeRegistry.newBuilder()
        .add(HttpConnectionManager.getDescriptor())
        .add(ExtAuthz.getDescriptor())
        .add(Router.getDescriptor())
        .add(HttpProtocolOptions.getDescriptor())
        .build();
    Bootstrap.Builder builder = Bootstrap.newBuilder();
    JsonFormat.parser().usingTypeRegistry(types).merge(new Gson().toJson(yaml), builder);
    return builder.build();
  }

  @BeforeAll
  void parse() throws IOException {
    bootstrap = parse(DeployFiles.yaml(FILE));
    assertEquals(1, bootstrap.getStaticResources().getListenersCount(), "one listener");
    List<Filter> filters = bootstrap.getStaticResources().getListeners(0).getFilterChains(0).getFiltersList();
    manager = filters.stream().filter(f -> f.getTypedConfig().is(HttpConnectionManager.class)).findFirst()
        .orElseThrow().getTypedConfig().unpack(HttpConnectionManager.class);
    extAuthz = httpFilter(ExtAuthz.class).getTypedConfig().unpack(ExtAuthz.class);
  }

  private HttpFilter httpFilter(Class<? extends com.google.protobuf.Message> type) {
    return manager.getHttpFiltersList().stream().filter(f -> f.getTypedConfig().is(type)).findFirst()
        .orElseThrow(() -> new AssertionError(FILE + ": no HTTP filter of type " + type.getSimpleName()));
  }

  private Cluster cluster(String name) {
    return bootstrap.getStaticResources().getClustersList().stream().filter(c -> c.getName().equals(name))
        .findFirst().orElseThrow(() -> new AssertionError(FILE + ": no cluster named " + name));
  }

  @Test
  void aMisspeltFieldIsCaughtAsEnvoyWouldCatchIt() throws IOException {
    // the check itself: a typo must not parse (JsonFormat's default refuses unknown fields)
    Object yaml = DeployFiles.yaml(FILE);
    java.util.Map<String, Object> extAuthzConfig = DeployFiles.at(yaml, "static_resources", "listeners", 0,
        "filter_chains", 0, "filters", 0, "typed_config", "http_filters", 0, "typed_config");
    extAuthzConfig.put("failure_mode_alow", true);
    org.junit.jupiter.api.Assertions.assertThrows(InvalidProtocolBufferException.class, () -> parse(yaml));
  }

  @Test
  void theExtAuthzFilterAsksOurClusterOverHttp2OnTheDefaultPort() throws IOException {
    String clusterName = extAuthz.getGrpcService().getEnvoyGrpc().getClusterName();
    assertFalse(clusterName.isEmpty(), "grpc_service.envoy_grpc.cluster_name");
    Cluster auth = cluster(clusterName);
    SocketAddress address = auth.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress()
        .getSocketAddress();
    assertEquals(Integer.parseInt(DeployFiles.documentedDefault("AUTH_PORT")), address.getPortValue(),
        "the server's default gRPC port (AUTH_PORT)");
    assertEquals(50051, address.getPortValue());
    HttpProtocolOptions protocol = auth.getTypedExtensionProtocolOptionsOrThrow(
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions").unpack(HttpProtocolOptions.class);
    assertTrue(protocol.getExplicitHttpConfig().hasHttp2ProtocolOptions(), "gRPC needs HTTP/2 to the cluster");
  }

  @Test
  void theFilterFailsClosedWithinEnvoysDefaultTimeout() {
    assertEquals(ApiVersion.V3, extAuthz.getTransportApiVersion());
    assertTrue(extAuthz.getGrpcService().hasTimeout(), "the timeout is set, not left to chance");
    Duration timeout = extAuthz.getGrpcService().getTimeout();
    assertTrue(Durations.toNanos(timeout) > 0 && Durations.compare(timeout, ENVOY_DEFAULT_TIMEOUT) <= 0,
        "timeout " + Durations.toString(timeout) + " must be positive and at most 0.2s");
    assertFalse(extAuthz.getFailureModeAllow(), "failure_mode_allow false: our outage must not open the gate");
  }

  @Test
  void theFilterPassesTheHeadersCheckReadsAndRewrites() throws IOException {
    List<StringMatcher> patterns = extAuthz.getAllowedHeaders().getPatternsList();
    // every x-auth-* header must reach Check, so that an allowed answer can replace or remove the
    // client's own copies of ours
    // cookie: the token's other place (AUTH_EXT_AUTHZ_TOKEN_COOKIE)
    Set<String> needed = Set.of("authorization", "cookie", "traceparent", "user-agent",
        DeployFiles.documentedDefault("AUTH_EXT_AUTHZ_SUBJECT_HEADER"),
        DeployFiles.documentedDefault("AUTH_EXT_AUTHZ_USERNAME_HEADER"),
        DeployFiles.documentedDefault("AUTH_EXT_AUTHZ_ROLES_HEADER"), "x-auth-tenant");
    if (patterns.isEmpty()) {
      return; // no allowed_headers: Envoy sends every header
    }
    Set<String> missing = needed.stream().filter(name -> patterns.stream().noneMatch(p -> matches(p, name)))
        .collect(Collectors.toSet());
    assertTrue(missing.isEmpty(), "allowed_headers leaves out " + missing);
  }

  private static boolean matches(StringMatcher matcher, String name) {
    String subject = matcher.getIgnoreCase() ? name.toLowerCase(Locale.ROOT) : name;
    return switch (matcher.getMatchPatternCase()) {
      case EXACT -> subject.equals(matcher.getIgnoreCase() ? matcher.getExact().toLowerCase(Locale.ROOT)
          : matcher.getExact());
      case PREFIX -> subject.startsWith(matcher.getIgnoreCase() ? matcher.getPrefix().toLowerCase(Locale.ROOT)
          : matcher.getPrefix());
      default -> false; // a regex or suffix here would be judged by hand
    };
  }

  @Test
  void requestsPassTheFilterThenReachAnUpstreamCluster() {
    List<HttpFilter> filters = manager.getHttpFiltersList();
    assertTrue(filters.get(filters.size() - 1).getTypedConfig().is(Router.class), "the router comes last");
    assertTrue(filters.indexOf(httpFilter(ExtAuthz.class)) < filters.size() - 1);
    for (Route route : manager.getRouteConfig().getVirtualHosts(0).getRoutesList()) {
      Cluster upstream = cluster(route.getRoute().getCluster());
      assertFalse(upstream.getName().equals(extAuthz.getGrpcService().getEnvoyGrpc().getClusterName()),
          "no route leads clients to the auth service through the gate");
    }
    // one normal form of the path for the routes file and the upstream
    assertTrue(manager.getNormalizePath().getValue());
    assertTrue(manager.getMergeSlashes());
  }
}
