package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.http.AdminEndpoints;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/ (compose and Kubernetes) and the container image's Jib configuration against the server
 * itself: every AUTH_* variable they set is a real setting (an option of ServeCommand, or one of the
 * few read elsewhere), every port is one of the server's default ports, every probe asks an endpoint
 * the server serves, and the image agrees with the manifests. A renamed setting, a moved port or a
 * probe at a path that does not exist fails here rather than in someone's cluster.
 */
class DeploymentFilesTest {
  private static final Path ROOT = Path.of("..");
  private static final Path DEPLOY = ROOT.resolve("deploy");
  private static final Path COMPOSE = DEPLOY.resolve("compose.yaml");
  private static final Path K8S = DEPLOY.resolve("k8s");

  /** Every variable the server reads, with its default ("" when none). */
  private static Map<String, String> settings;
  private static int grpcPort;
  private static int httpPort;
  private static int adminPort;

  @BeforeAll
  static void readTheServersSettings() {
    settings = new HashMap<>();
    ServeCommand.OPTIONS.options().forEach(option -> settings.put(option.variable(), option.defaultValue()));
    SettingsReferenceTest.NOT_OPTIONS.keySet().forEach(variable -> settings.putIfAbsent(variable, ""));
    assertTrue(settings.size() > 50, "read the server's settings: " + settings.size());
    grpcPort = Integer.parseInt(settings.get("AUTH_PORT"));
    httpPort = Integer.parseInt(settings.get("AUTH_HTTP_PORT"));
    adminPort = Integer.parseInt(settings.get("AUTH_ADMIN_PORT"));
  }

  // ---------------------------------------------------------------- compose

  @Test
  void composeSetsOnlyRealSettingsAndTheServersPorts() throws IOException {
    Map<String, Object> services = map(yaml(COMPOSE).get(0).get("services"), "services");
    List<String> problems = new ArrayList<>();
    List<String> authServers = authServerServices(services);
    assertFalse(authServers.isEmpty(), "compose.yaml runs the auth server");
    for (String name : authServers) {
      Map<String, Object> service = map(services.get(name), name);
      Map<String, String> env = composeEnvironment(service);
      problems.addAll(unknownSettings("compose.yaml " + name, env.keySet()));
      assertTrue(env.containsKey("MONGODB_URI"), name + " gets MONGODB_URI (from its env file)");
      for (Object port : list(service.getOrDefault("ports", List.of()))) {
        String text = port.toString();
        int container = Integer.parseInt(text.substring(text.lastIndexOf(':') + 1).replace("/tcp", ""));
        if (!Set.of(grpcPort, httpPort, adminPort).contains(container)) {
          problems.add(name + " publishes container port " + container + ", which the server does not listen on");
        }
      }
      // the healthcheck asks the admin port for readiness
      String healthcheck = String.join(" ", list(map(service.get("healthcheck"), name + ".healthcheck").get("test"))
          .stream().map(Object::toString).toList());
      if (!healthcheck.contains("/" + adminPort) || !healthcheck.contains(AdminEndpoints.READY)) {
        problems.add(name + "'s healthcheck does not ask " + AdminEndpoints.READY + " on port " + adminPort + ": "
            + healthcheck);
      }
    }
    if (authServers.stream().noneMatch(name -> replicas(map(services.get(name), name)) == 3)) {
      problems.add("no auth server service runs three replicas");
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void composesEnvoyChecksWithTheAuthServerServiceOnItsGrpcPort() throws IOException {
    Map<String, Object> services = map(yaml(COMPOSE).get(0).get("services"), "services");
    Map<String, Object> envoy = map(services.get("envoy"), "envoy");
    String config = list(envoy.get("volumes")).stream().map(Object::toString)
        .filter(volume -> volume.contains(":/etc/envoy/envoy.yaml")).findFirst().orElseThrow();
    Path envoyFile = DEPLOY.resolve(config.substring(0, config.indexOf(':')));
    Map<String, Object> staticResources = map(yaml(envoyFile).get(0).get("static_resources"), "static_resources");
    String extAuthzCluster = null;
    for (Object listener : list(staticResources.get("listeners"))) {
      String text = listener.toString();
      Matcher cluster = Pattern.compile("envoy_grpc=\\{cluster_name=([^,}]+)").matcher(text);
      if (cluster.find()) {
        extAuthzCluster = cluster.group(1);
      }
    }
    assertTrue(extAuthzCluster != null, "envoy.yaml has an ext_authz filter calling a cluster over gRPC");
    boolean found = false;
    for (Object clusterObject : list(staticResources.get("clusters"))) {
      Map<String, Object> cluster = map(clusterObject, "cluster");
      if (!extAuthzCluster.equals(cluster.get("name"))) {
        continue;
      }
      found = true;
      String text = cluster.toString();
      assertTrue(text.contains("http2_protocol_options"), "the auth server's cluster speaks HTTP/2 (gRPC)");
      Matcher address = Pattern.compile("socket_address=\\{address=([^,]+), port_value=(\\d+)}").matcher(text);
      assertTrue(address.find(), text);
      assertTrue(authServerServices(services).contains(address.group(1)),
          "ext_authz's cluster points at the auth server service, not " + address.group(1));
      assertEquals(grpcPort, Integer.parseInt(address.group(2)), "ext_authz's cluster port");
    }
    assertTrue(found, "envoy.yaml defines the cluster " + extAuthzCluster);
  }

  // ---------------------------------------------------------------- Kubernetes

  @Test
  void kustomizationListsEveryManifest() throws IOException {
    Map<String, Object> kustomization = yaml(K8S.resolve("kustomization.yaml")).get(0);
    Set<String> listed = new TreeSet<>(list(kustomization.get("resources")).stream().map(Object::toString).toList());
    Set<String> present = new TreeSet<>();
    try (Stream<Path> files = Files.list(K8S)) {
      files.map(file -> file.getFileName().toString()).filter(name -> name.endsWith(".yaml"))
          .filter(name -> !name.equals("kustomization.yaml")).forEach(present::add);
    }
    assertEquals(present, listed, "kustomization.yaml's resources are the manifests in deploy/k8s");
  }

  @Test
  void theDeploymentSetsRealSettingsOnTheServersPortsWithProbesAtRealEndpoints() throws IOException {
    Map<String, Object> deployment = k8sObject("Deployment");
    Map<String, Object> spec = map(deployment.get("spec"), "spec");
    assertEquals(3, ((Number) spec.get("replicas")).intValue(), "replicas");
    Map<String, Object> pod = map(map(spec.get("template"), "template").get("spec"), "pod spec");
    Map<String, Object> container = map(list(pod.get("containers")).get(0), "container");
    List<String> problems = new ArrayList<>();

    Set<String> variables = new LinkedHashSet<>();
    list(container.get("env")).forEach(e -> variables.add((String) map(e, "env").get("name")));
    problems.addAll(unknownSettings("deployment.yaml", variables));

    Map<String, Integer> namedPorts = new LinkedHashMap<>();
    for (Object port : list(container.get("ports"))) {
      Map<String, Object> p = map(port, "port");
      namedPorts.put((String) p.get("name"), ((Number) p.get("containerPort")).intValue());
    }
    assertEquals(Set.of(grpcPort, httpPort, adminPort), Set.copyOf(namedPorts.values()), "container ports");

    for (String probeName : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      Map<String, Object> probe = map(container.get(probeName), probeName);
      if (probe.containsKey("grpc")) {
        Map<String, Object> grpc = map(probe.get("grpc"), probeName + ".grpc");
        if (port(grpc.get("port"), namedPorts) != grpcPort) {
          problems.add(probeName + " asks gRPC health on port " + grpc.get("port") + ", not " + grpcPort);
        }
        String service = (String) grpc.getOrDefault("service", "");
        if (!healthServices().contains(service)) {
          problems.add(probeName + " asks the health of '" + service + "', which the server does not report;"
              + " it reports " + healthServices());
        }
      } else if (probe.containsKey("httpGet")) {
        Map<String, Object> get = map(probe.get("httpGet"), probeName + ".httpGet");
        if (port(get.get("port"), namedPorts) != adminPort
            || !Set.of(AdminEndpoints.LIVE, AdminEndpoints.READY).contains(get.get("path"))) {
          problems.add(probeName + " asks " + get.get("path") + " on port " + get.get("port") + "; the server"
              + " serves " + AdminEndpoints.LIVE + " and " + AdminEndpoints.READY + " on " + adminPort);
        }
      } else {
        problems.add(probeName + " is neither a gRPC health probe nor an httpGet: " + probe);
      }
    }

    // the security context the platform expects
    Map<String, Object> security = map(container.get("securityContext"), "securityContext");
    assertEquals(Boolean.TRUE, security.get("readOnlyRootFilesystem"), "readOnlyRootFilesystem");
    assertEquals(Boolean.TRUE, security.get("runAsNonRoot"), "runAsNonRoot");
    assertEquals(Boolean.FALSE, security.get("allowPrivilegeEscalation"), "allowPrivilegeEscalation");
    assertEquals(List.of("ALL"), map(security.get("capabilities"), "capabilities").get("drop"), "drop ALL");

    // every Secret it reads exists, with that key
    Map<String, Set<String>> secrets = new HashMap<>();
    for (Map<String, Object> object : k8sObjects()) {
      if ("Secret".equals(object.get("kind"))) {
        secrets.put((String) map(object.get("metadata"), "metadata").get("name"),
            map(object.get("stringData"), "stringData").keySet());
      }
    }
    for (Object e : list(container.get("env"))) {
      Object from = map(e, "env").get("valueFrom");
      if (from != null && map(from, "valueFrom").containsKey("secretKeyRef")) {
        Map<String, Object> ref = map(map(from, "valueFrom").get("secretKeyRef"), "secretKeyRef");
        if (!secrets.getOrDefault((String) ref.get("name"), Set.of()).contains((String) ref.get("key"))) {
          problems.add("env reads secret " + ref.get("name") + " key " + ref.get("key") + ", which secrets.yaml lacks");
        }
      }
    }
    // the key-encryption key is a mounted file, at the path AUTH_KEY_ENCRYPTION_KEY_FILE names
    String kekFile = envValue(container, "AUTH_KEY_ENCRYPTION_KEY_FILE");
    assertTrue(kekFile != null, "the key-encryption key comes from a file");
    assertFalse(variables.contains("AUTH_KEY_ENCRYPTION_KEY"), "never the key itself in the environment");
    boolean mounted = false;
    for (Object m : list(container.get("volumeMounts"))) {
      Map<String, Object> mount = map(m, "volumeMount");
      for (Object v : list(pod.get("volumes"))) {
        Map<String, Object> volume = map(v, "volume");
        if (volume.get("name").equals(mount.get("name")) && volume.containsKey("secret")) {
          Map<String, Object> secret = map(volume.get("secret"), "secret");
          for (Object item : list(secret.get("items"))) {
            Map<String, Object> i = map(item, "item");
            if (kekFile.equals(mount.get("mountPath") + "/" + i.get("path"))
                && secrets.getOrDefault((String) secret.get("secretName"), Set.of()).contains((String) i.get("key"))) {
              mounted = true;
            }
          }
        }
      }
    }
    assertTrue(mounted, "a Secret's key is mounted at " + kekFile);
    assertTrue(problems.isEmpty(), String.join("\n", problems));
  }

  @Test
  void theServiceAndTheNetworkPolicyUseTheServersPorts() throws IOException {
    Map<String, Object> container = map(list(map(map(map(k8sObject("Deployment").get("spec"), "spec")
        .get("template"), "template").get("spec"), "pod").get("containers")).get(0), "container");
    Map<String, Integer> namedPorts = new LinkedHashMap<>();
    list(container.get("ports")).forEach(p -> namedPorts.put((String) map(p, "port").get("name"),
        ((Number) map(p, "port").get("containerPort")).intValue()));
    Set<Integer> targets = new TreeSet<>();
    for (Object p : list(map(k8sObject("Service").get("spec"), "spec").get("ports"))) {
      Map<String, Object> port = map(p, "port");
      int target = port(port.get("targetPort"), namedPorts);
      assertEquals(target, ((Number) port.get("port")).intValue(), "the Service keeps the server's port numbers");
      targets.add(target);
    }
    assertEquals(new TreeSet<>(Set.of(grpcPort, httpPort, adminPort)), targets, "the Service's ports");

    Map<String, Object> policySpec = map(k8sObject("NetworkPolicy").get("spec"), "spec");
    List<Object> rules = list(policySpec.get("ingress"));
    assertEquals(2, rules.size(), "two ways in: the gateway and the scraper");
    Set<Integer> allowed = new TreeSet<>();
    for (Object rule : rules) {
      list(map(rule, "rule").get("ports")).forEach(p -> allowed.add(port(map(p, "port").get("port"), namedPorts)));
      assertFalse(list(map(rule, "rule").get("from")).isEmpty(), "every rule names who may come in");
    }
    assertEquals(new TreeSet<>(Set.of(grpcPort, httpPort, adminPort)), allowed, "the NetworkPolicy's ports");
    String scraper = rules.get(1).toString();
    assertTrue(scraper.contains("prometheus") && scraper.contains("port=" + adminPort)
        && !scraper.contains("port=" + grpcPort), "the scraper reaches the metrics port only: " + scraper);
  }

  // ---------------------------------------------------------------- the image

  @Test
  void theImageAgreesWithTheServerTheLauncherAndTheManifests() throws Exception {
    Element jib = jibConfiguration();
    Element container = child(jib, "container");
    List<String> problems = new ArrayList<>();

    String user = text(child(container, "user"));
    String uid = user.split(":")[0];
    if (uid.equals("0") || uid.equals("root") || !uid.matches("\\d+")) {
      problems.add("the image runs as '" + user + "': a numeric non-root user is needed for runAsNonRoot");
    }
    assertEquals(Main.class.getName(), text(child(container, "mainClass")), "the image's main class");

    // the entrypoint is the launcher the build ships, put into the image at the app root
    List<String> entrypoint = texts(child(container, "entrypoint"), "arg");
    String appRoot = text(child(container, "appRoot"));
    assertEquals(List.of(appRoot + "/bin/auth-server"), entrypoint, "the entrypoint is the launcher");
    boolean launcherCopied = false;
    for (Element path : elements(child(child(jib, "extraDirectories"), "paths"), "path")) {
      if (text(child(path, "from")).equals("src/main/dist") && text(child(path, "into")).equals(appRoot)) {
        launcherCopied = Files.isRegularFile(Path.of("src/main/dist/bin/auth-server"));
      }
    }
    assertTrue(launcherCopied, "src/main/dist/bin/auth-server is copied to " + appRoot + "/bin");

    Set<Integer> ports = new TreeSet<>();
    texts(child(container, "ports"), "port").forEach(p -> ports.add(Integer.parseInt(p)));
    assertEquals(new TreeSet<>(Set.of(grpcPort, httpPort, adminPort)), ports, "the image's exposed ports");

    Map<String, String> env = new LinkedHashMap<>();
    NodeList variables = child(container, "environment").getChildNodes();
    for (int i = 0; i < variables.getLength(); i++) {
      if (variables.item(i) instanceof Element variable) {
        env.put(variable.getTagName(), variable.getTextContent().trim());
      }
    }
    problems.addAll(unknownSettings("the Jib configuration", env.keySet()));
    for (String bind : List.of("AUTH_BIND_ADDRESS", "AUTH_HTTP_BIND_ADDRESS", "AUTH_ADMIN_BIND_ADDRESS")) {
      if (!"0.0.0.0".equals(env.get(bind))) {
        problems.add("the image leaves " + bind + " at " + env.getOrDefault(bind, settings.get(bind))
            + ": nothing outside the container could reach it");
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
    List<String> volumes = texts(child(container, "volumes"), "volume");
    // a directory inside a volume, not the volume's root: that belongs to root (Jib sets no owner, nor
    // does Kubernetes for an emptyDir), and the server refuses a data directory another user owns
    String dataDir = env.get("AUTH_DATA_DIR");
    String volume = Path.of(dataDir).getParent().toString();
    assertTrue(volumes.contains(volume), "the data directory " + dataDir + " is a directory directly inside a volume: "
        + volumes);

    // the Deployment mounts a writable volume there and runs as the image's user
    Map<String, Object> deployment = k8sObject("Deployment");
    Map<String, Object> pod = map(map(map(deployment.get("spec"), "spec").get("template"), "template").get("spec"), "pod");
    Map<String, Object> k8sContainer = map(list(pod.get("containers")).get(0), "container");
    assertTrue(list(k8sContainer.get("volumeMounts")).stream()
        .anyMatch(m -> volume.equals(map(m, "mount").get("mountPath"))),
        "the Deployment mounts a volume at " + volume + " (its root filesystem is read-only)");
    assertEquals(Integer.parseInt(uid),
        ((Number) map(pod.get("securityContext"), "securityContext").get("runAsUser")).intValue(),
        "the Deployment runs as the image's user");
  }

  // ---------------------------------------------------------------- helpers

  private static List<String> unknownSettings(String where, Set<String> variables) {
    List<String> problems = new ArrayList<>();
    for (String variable : variables) {
      if ((variable.startsWith("AUTH_") || variable.equals("MONGODB_URI")) && !settings.containsKey(variable)) {
        problems.add(where + " sets " + variable + ", which is not a setting of the server");
      }
    }
    return problems;
  }

  /** The services that run the auth server's image. */
  private static List<String> authServerServices(Map<String, Object> services) {
    return services.entrySet().stream()
        .filter(e -> String.valueOf(map(e.getValue(), e.getKey()).get("image")).contains("auth-server"))
        .map(Map.Entry::getKey).toList();
  }

  private static int replicas(Map<String, Object> service) {
    Object deploy = service.get("deploy");
    return deploy == null ? 1 : ((Number) map(deploy, "deploy").getOrDefault("replicas", 1)).intValue();
  }

  /** A compose service's environment: its env files (relative to deploy/), then its environment entries. */
  private static Map<String, String> composeEnvironment(Map<String, Object> service) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    Object files = service.get("env_file");
    for (Object file : files == null ? List.of() : files instanceof List<?> l ? l : List.of(files)) {
      for (String line : Files.readAllLines(DEPLOY.resolve(file.toString()), StandardCharsets.UTF_8)) {
        if (!line.isBlank() && !line.startsWith("#")) {
          env.put(line.substring(0, line.indexOf('=')).trim(), line.substring(line.indexOf('=') + 1));
        }
      }
    }
    Object environment = service.get("environment");
    if (environment instanceof Map<?, ?> m) {
      m.forEach((k, v) -> env.put(k.toString(), String.valueOf(v)));
    } else if (environment instanceof List<?> l) {
      l.forEach(entry -> env.put(entry.toString().split("=", 2)[0], entry.toString().split("=", 2)[1]));
    }
    return env;
  }

  private static String envValue(Map<String, Object> container, String name) {
    return list(container.get("env")).stream().map(e -> map(e, "env")).filter(e -> name.equals(e.get("name")))
        .map(e -> (String) e.get("value")).findFirst().orElse(null);
  }

  /** The gRPC health service names the server reports: "" (the whole server) and each service. */
  private static Set<String> healthServices() {
    return Set.of("", AuthServiceGrpc.SERVICE_NAME, UserAdminServiceGrpc.SERVICE_NAME,
        KeyAdminServiceGrpc.SERVICE_NAME, AuthorizationGrpc.SERVICE_NAME);
  }

  private static int port(Object port, Map<String, Integer> named) {
    if (port instanceof Number number) {
      return number.intValue();
    }
    Integer resolved = named.get(port.toString());
    assertTrue(resolved != null, "the named port " + port + " is one of the container's");
    return resolved;
  }

  private static List<Map<String, Object>> k8sObjects() throws IOException {
    List<Map<String, Object>> objects = new ArrayList<>();
    for (Object resource : list(yaml(K8S.resolve("kustomization.yaml")).get(0).get("resources"))) {
      objects.addAll(yaml(K8S.resolve(resource.toString())));
    }
    return objects;
  }

  private static Map<String, Object> k8sObject(String kind) throws IOException {
    List<Map<String, Object>> found = k8sObjects().stream().filter(o -> kind.equals(o.get("kind"))).toList();
    assertEquals(1, found.size(), "one " + kind + " in deploy/k8s");
    return found.get(0);
  }

  private static List<Map<String, Object>> yaml(Path file) throws IOException {
    List<Map<String, Object>> documents = new ArrayList<>();
    for (Object document : new Yaml().loadAll(Files.readString(file, StandardCharsets.UTF_8))) {
      if (document != null) {
        documents.add(map(document, file.toString()));
      }
    }
    assertFalse(documents.isEmpty(), file + " has a YAML document");
    return documents;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value, String what) {
    assertTrue(value instanceof Map, what + " is a mapping: " + value);
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object value) {
    assertTrue(value instanceof List, "a list: " + value);
    return (List<Object>) value;
  }

  /** The jib-maven-plugin's configuration in server/pom.xml. */
  private static Element jibConfiguration() throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document pom = factory.newDocumentBuilder().parse(Path.of("pom.xml").toFile());
    NodeList artifacts = pom.getElementsByTagName("artifactId");
    for (int i = 0; i < artifacts.getLength(); i++) {
      if (artifacts.item(i).getTextContent().trim().equals("jib-maven-plugin")) {
        Element plugin = (Element) artifacts.item(i).getParentNode();
        assertTrue(elements(plugin, "executions").isEmpty(), "Jib is not bound to the build's phases");
        return child(plugin, "configuration");
      }
    }
    throw new AssertionError("server/pom.xml configures jib-maven-plugin");
  }

  private static Element child(Element parent, String name) {
    List<Element> children = elements(parent, name);
    assertEquals(1, children.size(), "one <" + name + "> in <" + parent.getTagName() + ">");
    return children.get(0);
  }

  private static List<Element> elements(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    for (Node node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
      if (node instanceof Element element && element.getTagName().equals(name)) {
        found.add(element);
      }
    }
    return found;
  }

  private static List<String> texts(Element parent, String name) {
    return elements(parent, name).stream().map(DeploymentFilesTest::text).toList();
  }

  private static String text(Element element) {
    return element.getTextContent().trim();
  }
}
