package dev.authservice.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.Durations;
import java.io.IOException;
import java.text.ParseException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * deploy/istio: the mesh's extension provider, the auth service's Service and the CUSTOM
 * AuthorizationPolicy name each other consistently and match the server's defaults.
 */
class IstioConfigTest {
  private static Map<String, Object> provider() throws IOException {
    List<Map<String, Object>> providers = DeployFiles.at(DeployFiles.yaml("deploy/istio/mesh-config.yaml"), "spec",
        "meshConfig", "extensionProviders");
    assertEquals(1, providers.size());
    return providers.get(0);
  }

  @Test
  void theProviderReachesTheServiceOnTheServersPortWithinEnvoysDefaultTimeout() throws IOException,
      ParseException {
    Map<String, Object> grpc = DeployFiles.at(provider(), "envoyExtAuthzGrpc");
    int port = DeployFiles.at(grpc, "port");
    assertEquals(Integer.parseInt(DeployFiles.documentedDefault("AUTH_PORT")), port);

    Map<String, Object> service = DeployFiles.yaml("deploy/istio/auth-service.yaml");
    assertEquals("Service", service.get("kind"));
    String host = DeployFiles.at(service, "metadata", "name") + "." + DeployFiles.at(service, "metadata", "namespace")
        + ".svc.cluster.local";
    assertEquals(host, grpc.get("service"), "the provider names the Service");
    Map<String, Object> servicePort = DeployFiles.at(service, "spec", "ports", 0);
    assertEquals(port, servicePort.get("port"));
    assertEquals("grpc", servicePort.get("appProtocol"), "so the sidecars speak HTTP/2 to it");

    var timeout = Durations.parse(DeployFiles.at(grpc, "timeout"));
    assertTrue(Durations.toMillis(timeout) > 0 && Durations.toMillis(timeout) <= 200, "timeout " + timeout);
    assertFalse(Boolean.TRUE.equals(grpc.get("failOpen")), "fails closed");
  }

  @Test
  void thePolicyIsCustomAndNamesTheProvider() throws IOException {
    Map<String, Object> policy = DeployFiles.yaml("deploy/istio/authorization-policy.yaml");
    assertEquals("AuthorizationPolicy", policy.get("kind"));
    assertTrue(((String) policy.get("apiVersion")).startsWith("security.istio.io/"));
    assertEquals("CUSTOM", DeployFiles.at(policy, "spec", "action"));
    assertEquals(provider().get("name"), DeployFiles.at(policy, "spec", "provider", "name"));
    List<?> rules = DeployFiles.at(policy, "spec", "rules");
    assertFalse(rules == null || rules.isEmpty(), "a CUSTOM policy without rules checks nothing");
  }
}
