package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher (src/main/dist/bin/auth-server) starts the real server with its JVM options, in the
 * layout Jib gives the container image (classes and libraries listed in jib-classpath-file), and an
 * operator's AUTH_JAVA_OPTS come last so they win. Started without any heap option, as a plain
 * {@code java -jar} would, the server warns once and says exactly what to pass, which is what the
 * launcher passes.
 */
class LauncherTest {
  private static final Path LAUNCHER = Path.of("src/main/dist/bin/auth-server");
  private static final String WARNING = "the JVM sized the heap itself";

  @TempDir Path dir;

  @Test
  void theLauncherStartsTheServerWithItsOptionsAndTheOperatorsLast() throws Exception {
    Path app = dir.resolve("app");
    Files.createDirectories(app.resolve("bin"));
    Files.copy(LAUNCHER, app.resolve("bin/auth-server"));
    Files.writeString(app.resolve("jib-classpath-file"), System.getProperty("java.class.path"));
    Files.writeString(app.resolve("jib-main-class-file"), Main.class.getName());
    // an AOT cache others may write (a neighbour's classes would run as the server's): not used
    Path cache = Files.writeString(app.resolve("auth-server.aot"), "not a cache");
    Files.setPosixFilePermissions(cache, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
    List<String> command = List.of("/bin/sh", app.resolve("bin/auth-server").toString());

    Path log = dir.resolve("launcher.log");
    Process server = start(command, Map.of("AUTH_JAVA_OPTS", "-Xmx200m -Dlauncher.test=operator"), log);
    try {
      // the launcher execs the JVM: this process is the server itself
      List<String> arguments = Arrays.asList(Files.readString(Path.of("/proc/" + server.pid() + "/cmdline"),
          StandardCharsets.UTF_8).split("\0"));
      assertTrue(arguments.get(0).endsWith("/java"), "the launcher execs java: " + arguments);
      assertTrue(arguments.contains("-Xmx96m") || arguments.contains("-XX:MaxRAMPercentage=50"),
          "the launcher sizes the heap: " + arguments);
      assertTrue(arguments.containsAll(List.of(JvmOptions.COMMON.split(" "))),
          "the launcher's collector, heap-shrinking and out-of-memory options: " + arguments);
      assertFalse(arguments.contains(JvmOptions.YOUNG_FLOOR),
          "the operator sized the heap, so the launcher's young-generation floor stays out: " + arguments);
      assertFalse(arguments.stream().anyMatch(a -> a.startsWith("-XX:TieredStopAtLevel")),
          "the JIT keeps every tier: " + arguments);
      int operator = arguments.indexOf("-Xmx200m");
      assertTrue(operator > 0 && arguments.subList(0, operator).stream().noneMatch(a -> a.startsWith("-cp")
          || a.equals(Main.class.getName())), "AUTH_JAVA_OPTS reach the JVM, before the main class: " + arguments);
      assertTrue(arguments.subList(operator + 1, arguments.size()).stream().noneMatch(a -> a.startsWith("-Xmx")),
          "the operator's -Xmx comes after the launcher's, so it wins: " + arguments);
      assertTrue(arguments.contains("@" + app.resolve("jib-classpath-file")),
          "the image layout's class path file: " + arguments);
      assertTrue(arguments.stream().noneMatch(a -> a.startsWith("-XX:AOTCache")),
          "a world-writable AOT cache is not used: " + arguments);
      assertTrue(Files.readString(log).contains("not using " + cache), "and the launcher says why");
      String environment = Files.readString(Path.of("/proc/" + server.pid() + "/environ"), StandardCharsets.UTF_8);
      assertTrue(Arrays.asList(environment.split("\0")).contains("MALLOC_ARENA_MAX=2"), "two malloc arenas");
      assertMallocReturnsArgon2Buffers(Arrays.asList(environment.split("\0")));
      assertFalse(Files.readString(log).contains(WARNING), "no default-heap warning when the launcher sized it");
    } finally {
      stop(server);
    }
  }

  @Test
  void plainJavaWithoutHeapOptionsRunsTheServerInAChildJvmWithTheLaunchersHeap() throws Exception {
    assumeTrue(jvmDefaultHeapIsLarge(), "this machine's default heap is small: the JVM's own choice is kept");
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = dir.resolve("relaunch.log");
    Process parent = start(List.of(java, "-Drelaunch.test=kept", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "--instance-id", "relaunched"), Map.of(), log);
    ProcessHandle child = null;
    try {
      child = onlyChild(parent);
      List<String> arguments = commandLine(child.pid());
      assertTrue(arguments.get(0).equals(java), "the same java: " + arguments);
      assertTrue(arguments.containsAll(List.of(JvmOptions.HOST_HEAP.split(" "))) && arguments.contains(JvmOptions.YOUNG_FLOOR)
          && arguments.containsAll(List.of(JvmOptions.COMMON.split(" "))), "the launcher's options: " + arguments);
      assertTrue(arguments.contains("-Drelaunch.test=kept") && arguments.indexOf("-Drelaunch.test=kept")
          > arguments.indexOf("-Xmx96m"), "the options given come after the launcher's, so they still win: " + arguments);
      assertTrue(arguments.subList(arguments.size() - 3, arguments.size())
          .equals(List.of(Main.class.getName(), "--instance-id", "relaunched")), "the same arguments: " + arguments);
      assertTrue(environment(child.pid()).contains("MALLOC_ARENA_MAX=2"), "two malloc arenas in the child");
      assertMallocReturnsArgon2Buffers(Arrays.asList(environment(child.pid()).split("\0")));
      assertFalse(commandLine(parent.pid()).stream().anyMatch(a -> a.startsWith("-Xmx")), "the parent as started");
      // the JVM that answered is the child, and it sized its heap: no warning
      assertFalse(Files.readString(log).contains(WARNING), Files.readString(log));
      assertTrue(child.children().findAny().isEmpty(), "the child does not relaunch again");
      // the parent is small: it loaded none of the server's classes
      long parentRssKib = rssKib(parent.pid());
      assertTrue(parentRssKib < 100 * 1024, "the waiting parent's RSS: " + parentRssKib + " KiB");

      parent.destroy();  // SIGTERM, as a service manager or docker stop sends it
      assertTrue(parent.waitFor(30, TimeUnit.SECONDS), "the parent exits on SIGTERM");
      assertTrue(child.onExit().get(30, TimeUnit.SECONDS) != null && !child.isAlive(), "the server JVM stopped too");
      assertTrue(Files.readString(log).contains("auth server shutting down"), "the server shut down in order");
      assertEquals(143, parent.exitValue(), "the server's exit status (SIGTERM) is the parent's");
    } finally {
      if (child != null) {
        child.destroyForcibly();
      }
      stop(parent);
    }
  }

  /** SIGKILL reaches only the parent (no shutdown hook runs): the server JVM must not outlive it. */
  @Test
  void aRelaunchedServerStopsWhenItsParentIsKilled() throws Exception {
    assumeTrue(jvmDefaultHeapIsLarge(), "this machine's default heap is small: the JVM's own choice is kept");
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = dir.resolve("relaunch-kill.log");
    Process parent = start(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--instance-id", "orphan"), Map.of(), log);
    ProcessHandle child = null;
    try {
      child = onlyChild(parent);
      parent.destroyForcibly();   // SIGKILL: the parent's shutdown hook does not run
      assertTrue(parent.waitFor(30, TimeUnit.SECONDS), "the parent died");
      assertTrue(child.onExit().get(60, TimeUnit.SECONDS) != null && !child.isAlive(),
          "the server JVM stopped after its parent was killed");
      assertTrue(Files.readString(log).contains("auth server shutting down"), "it shut down in order");
    } finally {
      if (child != null) {
        child.destroyForcibly();
      }
      stop(parent);
    }
  }

  /**
   * A secret an operator gave the JVM through JAVA_TOOL_OPTIONS (an agent's API key, a trust store
   * password) is in the parent's environment, which only its user can read; the child's command
   * line is readable by every user of the host in /proc. And a collector chosen there must not
   * meet the launcher's (the JVM refuses two: the server would never start).
   */
  @Test
  void optionsFromTheEnvironmentStayOffTheChildsCommandLineAndItsCollectorIsKept() throws Exception {
    assumeTrue(jvmDefaultHeapIsLarge(), "this machine's default heap is small: the JVM's own choice is kept");
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = dir.resolve("relaunch-env.log");
    String secret = "-Dauth.test.agent.key=hunter2-in-the-environment";
    Process parent = start(List.of(java, "-Drelaunch.test=kept", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()), Map.of("JAVA_TOOL_OPTIONS", secret + " -XX:+UseParallelGC"), log);
    ProcessHandle child = null;
    try {
      child = onlyChild(parent);
      List<String> arguments = commandLine(child.pid());
      assertTrue(arguments.stream().noneMatch(a -> a.contains("hunter2")), "a secret on the child's command line,"
          + " readable by every user of the host: " + arguments);
      assertTrue(arguments.contains("-Drelaunch.test=kept") && arguments.contains("-Xmx96m"),
          "the command line's options and the launcher's: " + arguments);
      assertFalse(arguments.contains("-XX:+UseSerialGC"), "the collector chosen is kept: " + arguments);
      assertTrue(environment(child.pid()).contains("\0JAVA_TOOL_OPTIONS=" + secret + " -XX:+UseParallelGC\0"),
          "the child JVM reads the options from its environment, as the parent did");
      assertEquals(2, Files.readAllLines(log).stream().filter(l -> l.startsWith("Picked up JAVA_TOOL_OPTIONS")).count(),
          "both JVMs took the variable's options: " + Files.readString(log));
    } finally {
      if (child != null) {
        child.destroyForcibly();
      }
      stop(parent);
    }
  }

  /**
   * A SIGKILL of the parent while the child JVM is still starting: the child is then already
   * another process's (init's) when it looks for its parent, and must stop all the same.
   */
  @Test
  void aRelaunchedServerStopsWhenItsParentIsKilledWhileItStarts() throws Exception {
    assumeTrue(jvmDefaultHeapIsLarge(), "this machine's default heap is small: the JVM's own choice is kept");
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = dir.resolve("relaunch-early-kill.log");
    Process parent = launch(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--instance-id", "early-orphan"), Map.of(), log, freePort());
    ProcessHandle[] child = new ProcessHandle[1];
    try {
      Await.until("the child JVM started", 60, Duration.ofMillis(5), () -> {
        child[0] = parent.toHandle().children().findFirst().orElse(null);
        return child[0] != null;
      });
      parent.destroyForcibly();   // at once: the child's JVM is still starting
      assertTrue(parent.waitFor(30, TimeUnit.SECONDS), "the parent died");
      assertTrue(Await.within(90, () -> !child[0].isAlive()),
          "the server JVM outlived its parent, killed while it started; its log: " + Files.readString(log));
    } finally {
      if (child[0] != null) {
        child[0].destroyForcibly();
      }
      stop(parent);
    }
  }

  @Test
  void theOptionsFromEachVariableAreToldApartFromTheCommandLines() {
    List<String> input = List.of("-Dtool=1", "-Dq=a b", "-Dlauncher=2", "-Dcmd=3", "-Dlast=4");
    Map<String, String> env = Map.of("JAVA_TOOL_OPTIONS", " -Dtool=1  '-Dq=a b' ", "JDK_JAVA_OPTIONS", "-Dlauncher=2",
        "_JAVA_OPTIONS", "-Dlast=4");
    assertEquals(List.of("-Dcmd=3"), JvmRelaunch.commandLineOptions(input, env).orElseThrow());
    assertEquals(input, JvmRelaunch.commandLineOptions(input, Map.of()).orElseThrow());
    assertEquals(List.of("-Dq=a b", "x\"y"), JvmRelaunch.tokens("-D'q=a b' 'x\"y'"));
    assertTrue(JvmRelaunch.commandLineOptions(List.of("-Dfrom-file=1", "-Dcmd=3"), Map.of("JAVA_TOOL_OPTIONS",
        "-XX:VMOptionsFile=/etc/opts")).isEmpty(), "options from elsewhere than the variable's text: no relaunch");
    assertTrue(JvmRelaunch.commandLineOptions(List.of(), Map.of("_JAVA_OPTIONS", "-Dx=1")).isEmpty());
    assertFalse(JvmRelaunch.launcherOptions(false, Runtime.version(), List.of("-XX:+UseZGC"))
        .contains("-XX:+UseSerialGC"));
    assertTrue(JvmRelaunch.launcherOptions(false, Runtime.version(), List.of("-XX:-UseZGC", "-Dx=-XX:+UseG1GC"))
        .contains("-XX:+UseSerialGC"));
    assertEquals(java.util.OptionalLong.of(4242), JvmRelaunch.parentPid("4242"));
    assertTrue(JvmRelaunch.parentPid("true").isEmpty() && JvmRelaunch.parentPid(null).isEmpty());
  }

  @Test
  void plainJavaWithRelaunchOffRunsInItsOwnJvmAndWarnsOnceWithWhatToPass() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = dir.resolve("plain.log");
    Process server = start(List.of(java, "-cp", System.getProperty("java.class.path"), Main.class.getName()),
        Map.of("AUTH_RELAUNCH", "false"), log);
    try {
      assertTrue(server.toHandle().children().findAny().isEmpty(), "no child JVM with AUTH_RELAUNCH=false");
      List<String> warnings = Files.readAllLines(log).stream().filter(line -> line.contains(WARNING)).toList();
      assertEquals(1, warnings.size(), "one warning: " + Files.readString(log));
      assertTrue(warnings.get(0).contains("WARN") && warnings.get(0).contains(DefaultHeapWarning.HOST_OPTIONS)
          && warnings.get(0).contains("MALLOC_ARENA_MAX=2") && warnings.get(0).contains("bin/auth-server"),
          warnings.get(0));
    } finally {
      stop(server);
    }
  }

  @Test
  void relaunchOnlyForAHeapTheJvmChoseFarAboveWhatTheServerNeeds() {
    JvmRelaunch.Heap large = new JvmRelaunch.Heap(6L << 30, true);
    String[] none = {};
    assertTrue(JvmRelaunch.wanted(large, Map.of(), false, none));
    assertFalse(JvmRelaunch.wanted(new JvmRelaunch.Heap(6L << 30, false), Map.of(), false, none), "an -Xmx given");
    assertFalse(JvmRelaunch.wanted(new JvmRelaunch.Heap(256L << 20, true), Map.of(), false, none), "a small heap");
    assertFalse(JvmRelaunch.wanted(large, Map.of(), true, none), "the child itself");
    assertFalse(JvmRelaunch.wanted(large, Map.of("AUTH_RELAUNCH", "false"), false, none));
    assertFalse(JvmRelaunch.wanted(large, Map.of(), false, new String[] {"--relaunch=false"}));
    assertFalse(JvmRelaunch.wanted(large, Map.of(), false, new String[] {"--port", "1", "--relaunch", "FALSE"}));
    assertTrue(JvmRelaunch.wanted(large, Map.of("AUTH_RELAUNCH", "false"), false, new String[] {"--relaunch"}),
        "the flag wins over the variable");
  }

  @Test
  void aJarRunWithDashJarIsRelaunchedWithDashJar() {
    List<String> command = JvmRelaunch.childCommand("/j/bin/java", List.of("-Xmx160m"), List.of("-Dx=1"), 4242,
        "/app/auth-server.jar", "/app/auth-server.jar --port 1", "m.Main", new String[] {"--port", "1"});
    assertEquals(List.of("/j/bin/java", "-Xmx160m", "-Dx=1", "-D" + JvmRelaunch.MARKER + "=4242", "-jar",
        "/app/auth-server.jar", "--port", "1"), command);
  }

  @Test
  void theRelaunchUsesTheLaunchersOptions() throws IOException {
    String launcher = Files.readString(LAUNCHER);
    assertTrue(launcher.contains("options=\"" + JvmOptions.HOST_HEAP + "\""));
    assertTrue(launcher.contains("options=\"" + JvmOptions.CONTAINER_HEAP + "\""));
    assertTrue(launcher.contains("options=\"$options " + JvmOptions.TRIM_NATIVE_HEAP + "\""));
    assertTrue(launcher.contains("export MALLOC_ARENA_MAX=\"${MALLOC_ARENA_MAX:-" + JvmOptions.ARENA_MAX_DEFAULT + "}\""));
    assertTrue(launcher.contains("export " + JvmOptions.MMAP_THRESHOLD + "=" + JvmOptions.MMAP_THRESHOLD_DEFAULT));
    assertTrue(launcher.contains(JvmOptions.HUGE_PAGES) && launcher.contains(JvmOptions.TRANSPARENT_HUGE_PAGES));
    assertTrue(JvmRelaunch.launcherOptions(false, Runtime.Version.parse("21.0.1"))
        .containsAll(List.of("-Xms32m", "-Xmx96m", "-XX:+UseSerialGC", JvmOptions.TRIM_NATIVE_HEAP)));
    assertFalse(JvmRelaunch.launcherOptions(true, Runtime.Version.parse("21")).contains(JvmOptions.TRIM_NATIVE_HEAP));
    assertTrue(JvmRelaunch.launcherOptions(true, Runtime.Version.parse("25")).contains("-XX:MaxRAMPercentage=50"));
  }

  /**
   * Where the kernel has transparent huge pages, the server's JVM gets glibc's fixed mmap threshold
   * and huge pages for mapped blocks (each login's 19 MiB Argon2id buffer given back when its hash
   * ends, at no CPU cost); where it has none, glibc's defaults (a buffer mapped afresh per hash would
   * cost 4,900 page faults).
   */
  private static void assertMallocReturnsArgon2Buffers(List<String> environment) {
    if (hugePagesAvailable()) {
      assertTrue(environment.contains("MALLOC_MMAP_THRESHOLD_=131072"), "a fixed mmap threshold: " + environment);
      assertTrue(environment.contains("GLIBC_TUNABLES=glibc.malloc.hugetlb=1"), "huge pages for mapped blocks: " + environment);
    } else {
      assertTrue(environment.stream().noneMatch(v -> v.startsWith("MALLOC_MMAP_THRESHOLD_=")),
          "no fixed threshold without huge pages: " + environment);
    }
  }

  private static boolean hugePagesAvailable() {
    String setting = JvmRelaunch.transparentHugePages();
    return setting.contains("[") && !setting.contains("[never]") && JvmOptions.glibcAsksForHugePages(JvmRelaunch.glibcVersion());
  }

  private static final String GLIBC = "glibc 2.36";

  @Test
  void mallocSettingsAreAddedOnlyWhereMissingAndOnlyWithHugePages() {
    String madvise = "always [madvise] never";
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "131072",
        "GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"), JvmOptions.mallocEnvironment(Map.of(), madvise, GLIBC));
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "131072",
        "GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"), JvmOptions.mallocEnvironment(Map.of(), "[always] madvise never", GLIBC));
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2"), JvmOptions.mallocEnvironment(Map.of(), "always madvise [never]", GLIBC),
        "4 KiB pages: the buffer is kept (glibc's dynamic threshold)");
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2"), JvmOptions.mallocEnvironment(Map.of(), "", GLIBC), "no THP setting to read");
    // an operator's choice stands
    assertEquals(Map.of(), JvmOptions.mallocEnvironment(Map.of("MALLOC_ARENA_MAX", "4", "MALLOC_MMAP_THRESHOLD_", "1048576"), madvise, GLIBC));
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2"),
        JvmOptions.mallocEnvironment(Map.of("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536"), madvise, GLIBC));
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "131072",
        "GLIBC_TUNABLES", "glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1"),
        JvmOptions.mallocEnvironment(Map.of("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0"), madvise, GLIBC));
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "131072"),
        JvmOptions.mallocEnvironment(Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0"), madvise, GLIBC));
    // a glibc without the hugetlb tunable (before 2.35), or none (musl): glibc's defaults
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2"), JvmOptions.mallocEnvironment(Map.of(), madvise, "glibc 2.31"));
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2"), JvmOptions.mallocEnvironment(Map.of(), madvise, ""));
    assertTrue(JvmOptions.glibcAsksForHugePages("glibc 2.35") && JvmOptions.glibcAsksForHugePages("glibc 2.39")
        && JvmOptions.glibcAsksForHugePages("glibc 3.0") && !JvmOptions.glibcAsksForHugePages("glibc 2.34"));
  }

  /** Whether a JVM started here without options would choose a heap above the relaunch threshold. */
  private static boolean jvmDefaultHeapIsLarge() throws Exception {
    long machineKib = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(0L);
    return machineKib * 1024 / 4 > JvmRelaunch.LARGEST_DEFAULT_HEAP_KEPT * 2 && !JvmRelaunch.inContainer();
  }

  private static List<String> commandLine(long pid) throws IOException {
    return Arrays.asList(Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8).split("\0"));
  }

  private static String environment(long pid) throws IOException {
    return "\0" + Files.readString(Path.of("/proc/" + pid + "/environ"), StandardCharsets.UTF_8) + "\0";
  }

  private static long rssKib(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElseThrow();
  }

  /**
   * What the launcher passes before the operator's options, by what the operator gives: the young
   * generation's floor only with the launcher's own heap and young sizing (under an operator's
   * 48 MiB heap it would leave the old generation less than the server keeps live); the free ratios
   * as the JVM accepts them with the operator's (it refuses a minimum above the maximum, and
   * stopped at start on {@code -XX:MinHeapFreeRatio=50} alone). A stand-in {@code java} records the
   * options; the relaunch of a plain {@code java -jar} chooses the same, and the real JVM starts
   * with them.
   */
  @Test
  void theLaunchersHeapTuningGivesWayToTheOperators() throws Exception {
    assumeTrue(!JvmRelaunch.inContainer(), "in a container the heap follows the memory limit, with no floor");
    Path home = Files.createDirectories(dir.resolve("recording-jdk/bin")).getParent();
    Files.writeString(home.resolve("release"), "JAVA_VERSION=\"25.0.1\"\n");
    Path java = Files.writeString(home.resolve("bin/java"), "#!/bin/sh\nprintf '%s\\n' \"$@\" >\"$RECORDED_ARGUMENTS\"\n");
    assertTrue(java.toFile().setExecutable(true));
    Runtime.Version version = Runtime.Version.parse("25.0.1");
    String floor = JvmOptions.YOUNG_FLOOR;
    List<String> ratios = List.of("-XX:MinHeapFreeRatio=20", "-XX:MaxHeapFreeRatio=40");

    List<String> plain = launcherOwnOptions(home, Map.of());
    assertEquals(List.of("-Xms32m", "-Xmx96m", "-XX:NewSize=24m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError",
        "-XX:MinHeapFreeRatio=20", "-XX:MaxHeapFreeRatio=40", "-XX:-ShrinkHeapInSteps", "-XX:TrimNativeHeapInterval=5000"),
        plain);
    assertEquals(plain, JvmRelaunch.launcherOptions(false, version, List.of()), "the relaunch chooses the same");

    // the operator sizes the heap where it wins over the launcher's: no floor
    for (Map<String, String> operator : List.of(Map.of("AUTH_JAVA_OPTS", "-Xmx48m"),
        Map.of("JAVA_OPTS", "-Dx=1\t-XX:MaxHeapSize=64m"), Map.of("_JAVA_OPTIONS", "-Xms512m -Xmx512m"))) {
      List<String> options = launcherOwnOptions(home, operator);
      assertFalse(options.contains(floor), "no floor under " + operator + ": " + options);
      assertTrue(options.containsAll(ratios), operator + ": " + options);
    }
    // where the launcher's -Xmx96m wins (read before it), its floor stays
    assertTrue(launcherOwnOptions(home, Map.of("JAVA_TOOL_OPTIONS", "-Xmx48m")).contains(floor));
    // the operator sizes the young generation, from any variable: no floor, here and in the relaunch
    for (Map<String, String> operator : List.of(Map.of("JAVA_TOOL_OPTIONS", "-Xmn8m"),
        Map.of("AUTH_JAVA_OPTS", "-Dx=1\n-XX:NewRatio=3"))) {
      List<String> options = launcherOwnOptions(home, operator);
      assertFalse(options.contains(floor), "no floor under " + operator + ": " + options);
      assertEquals(options, JvmRelaunch.launcherOptions(false, version, tokens(operator)), operator.toString());
    }
    // the operator sets a free ratio, from any variable: the JVM takes the launcher's with it, and
    // the relaunch chooses the same
    for (Map<String, String> operator : List.of(Map.of("AUTH_JAVA_OPTS", "-XX:MinHeapFreeRatio=50"),
        Map.of("JAVA_OPTS", "-XX:MaxHeapFreeRatio=30"), Map.of("JDK_JAVA_OPTIONS", "-Xminf0.5"),
        Map.of("JAVA_TOOL_OPTIONS", "-Dx=1\t-XX:MaxHeapFreeRatio=30"))) {
      List<String> options = launcherOwnOptions(home, operator);
      assertEquals(options, JvmRelaunch.launcherOptions(false, version, tokens(operator)), operator.toString());
      List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
      options.stream().filter(o -> !o.equals(JvmOptions.TRIM_NATIVE_HEAP)).forEach(command::add);  // 21.0.1 and later
      command.addAll(tokens(operator));
      command.add("-version");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      JvmRelaunch.OPTION_VARIABLES.forEach(builder.environment()::remove);
      Process jvm = builder.start();
      String output = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(jvm.waitFor(30, TimeUnit.SECONDS), "the JVM ends");
      assertEquals(0, jvm.exitValue(), "the JVM starts with " + command + ": " + output);
    }
    assertFalse(launcherOwnOptions(home, Map.of("AUTH_JAVA_OPTS", "-XX:MinHeapFreeRatio=50")).stream()
        .anyMatch(o -> o.startsWith("-XX:MaxHeapFreeRatio=")), "an operator's minimum replaces both");
    assertTrue(launcherOwnOptions(home, Map.of("JAVA_OPTS", "-XX:MaxHeapFreeRatio=30")).contains("-XX:MinHeapFreeRatio=20"),
        "an operator's maximum replaces the launcher's only");
  }

  /**
   * Any flag that sizes the heap means the operator sized it, not only its ceiling: a relaunch with the
   * launcher's 96 MiB would override a share of memory, and stopped the child at start under
   * {@code -Xms1g} (initial heap above the maximum). A probe JVM reports what the relaunch reads.
   */
  @Test
  void anyHeapSizingFlagMeansTheOperatorSizedTheHeap() throws Exception {
    assertEquals("chosenByJvm=true", heapProbe(List.of()));
    for (String flag : List.of("-Xmx200m", "-Xms64m", "-XX:InitialHeapSize=64m", "-XX:MaxRAMPercentage=10",
        "-XX:InitialRAMPercentage=5", "-XX:MaxRAM=2g")) {
      assertEquals("chosenByJvm=false", heapProbe(List.of(flag)), flag);
    }
  }

  private static String heapProbe(List<String> flags) throws Exception {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
    command.addAll(flags);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), HeapProbe.class.getName()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    JvmRelaunch.OPTION_VARIABLES.forEach(builder.environment()::remove);
    Process probe = builder.start();
    String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(probe.waitFor(30, TimeUnit.SECONDS), "the probe ends");
    return output;
  }

  /** A collector given to the relaunch replaces Serial and its tuning; Serial given keeps them. */
  @Test
  void aCollectorGivenToTheRelaunchReplacesSerialAndItsTuning() {
    Runtime.Version version = Runtime.Version.parse("25.0.1");
    assertEquals(List.of("-Xms32m", "-Xmx96m", "-XX:+ExitOnOutOfMemoryError", "-XX:TrimNativeHeapInterval=5000"),
        JvmRelaunch.launcherOptions(false, version, List.of("-XX:+UseG1GC")));
    assertEquals(JvmRelaunch.launcherOptions(false, version).stream().filter(o -> !o.equals(JvmOptions.COLLECTOR)).toList(),
        JvmRelaunch.launcherOptions(false, version, List.of("-XX:+UseSerialGC")));
    assertFalse(JvmRelaunch.launcherOptions(true, version).contains(JvmOptions.YOUNG_FLOOR), "no floor in a container");
  }

  /** The operator's variables' options, as the JVM splits them (on any white space). */
  private static List<String> tokens(Map<String, String> operator) {
    return operator.values().stream().flatMap(v -> Arrays.stream(v.trim().split("\\s+"))).toList();
  }

  /** The options the launcher passes before the operator's, the jar and the server's arguments. */
  private List<String> launcherOwnOptions(Path home, Map<String, String> operator) throws Exception {
    List<String> arguments = launcherArguments(home, operator);
    List<String> own = new ArrayList<>(arguments.subList(0, arguments.indexOf("-jar")));
    // the launcher passes JAVA_OPTS, then AUTH_JAVA_OPTS: taken off from the end, the last first
    for (String variable : List.of("AUTH_JAVA_OPTS", "JAVA_OPTS")) {
      if (operator.containsKey(variable)) {
        List<String> given = tokens(Map.of(variable, operator.get(variable)));
        assertEquals(given, own.subList(own.size() - given.size(), own.size()), "the operator's options come last");
        own = new ArrayList<>(own.subList(0, own.size() - given.size()));
      }
    }
    return own;
  }

  /** The options the launcher passes to {@code home}'s java, with the operator's variables given. */
  private List<String> launcherArguments(Path home, Map<String, String> operator) throws Exception {
    Path recorded = dir.resolve("arguments-" + System.nanoTime());
    Path output = dir.resolve("launcher-output-" + System.nanoTime());
    ProcessBuilder builder = new ProcessBuilder("/bin/sh", LAUNCHER.toString()).redirectErrorStream(true)
        .redirectOutput(output.toFile());
    Map<String, String> env = builder.environment();
    List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS", "AUTH_JAVA_OPTS", "_JAVA_OPTIONS").forEach(env::remove);
    env.put("JAVA_HOME", home.toString());
    env.put("RECORDED_ARGUMENTS", recorded.toString());
    env.putAll(operator);
    Process launcher = builder.start();
    if (!launcher.waitFor(20, TimeUnit.SECONDS)) {
      launcher.destroyForcibly().waitFor();
    }
    assertEquals(0, launcher.exitValue(), "the launcher and its stand-in java: " + Files.readString(output));
    return Files.readAllLines(recorded);
  }

  @Test
  void theWarningRecommendsWhatTheLauncherPasses() throws IOException {
    String launcher = Files.readString(LAUNCHER);
    String hostHeap = DefaultHeapWarning.HOST_OPTIONS.replace(" " + JvmOptions.YOUNG_FLOOR + " " + JvmOptions.COMMON, "");
    String containerHeap = DefaultHeapWarning.CONTAINER_OPTIONS.replace(" " + JvmOptions.COMMON, "");
    assertTrue(launcher.contains("options=\"" + hostHeap + "\""), "the launcher's host heap is " + hostHeap);
    assertTrue(launcher.contains("options=\"" + containerHeap + "\""), "the launcher's container heap is " + containerHeap);
    assertTrue(DefaultHeapWarning.HOST_OPTIONS.contains("-XX:MaxHeapFreeRatio=40 -XX:-ShrinkHeapInSteps")
        && DefaultHeapWarning.CONTAINER_OPTIONS.contains("-XX:MaxHeapFreeRatio=40 -XX:-ShrinkHeapInSteps"),
        "the warning recommends the heap that gives memory back");
  }

  @Test
  void heapOptionsFromAnySourceSilenceTheWarning() {
    assertTrue(DefaultHeapWarning.of(List.of(), 6L << 30).isPresent());
    assertTrue(DefaultHeapWarning.of(List.of("-XX:+UseSerialGC", "-Dx=-Xmx1g"), 6L << 30).isPresent());
    for (String sized : List.of("-Xmx160m", "-XX:MaxRAMPercentage=50", "-XX:MaxHeapSize=200m", "-XX:MaxRAM=1g")) {
      assertTrue(DefaultHeapWarning.of(List.of("-XX:+UseSerialGC", sized), 160L << 20).isEmpty(), sized);
    }
    assertTrue(DefaultHeapWarning.of(List.of(), 6L << 30).orElseThrow().contains("6144 MiB"));
  }

  /** The one server JVM a relaunching parent started. */
  private static ProcessHandle onlyChild(Process parent) {
    List<ProcessHandle> children = parent.toHandle().children().toList();
    assertEquals(1, children.size(), "one child JVM: " + children);
    return children.get(0);
  }

  private Process start(List<String> command, Map<String, String> extraEnvironment, Path log) throws Exception {
    int port = freePort();
    Process process = launch(command, extraEnvironment, log, port);
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try {
      Await.until("the server SERVING", 150, Duration.ofMillis(100), () -> {
        assertTrue(process.isAlive(), "the server died at start; its log: " + log);
        try {
          return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
              .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING;
        } catch (StatusRuntimeException e) {
          return false;  // not up yet
        }
      });
    } finally {
      channel.shutdownNow();
    }
    return process;
  }

  /** Starts the command with the test settings, without waiting for it to serve. */
  private Process launch(List<String> command, Map<String, String> extraEnvironment, Path log, int port)
      throws IOException {
    ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> env = builder.environment();
    // what the test's own JVM was given must not decide what the started one gets
    List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS", "JAVA_OPTS", "AUTH_JAVA_OPTS", "MALLOC_ARENA_MAX",
        "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES").forEach(env::remove);
    String java = ProcessHandle.current().info().command().orElseThrow();
    env.put("JAVA_HOME", Path.of(java).getParent().getParent().toString());
    env.put("AUTH_PORT", Integer.toString(port));
    env.put("AUTH_HTTP_PORT", "off");
    env.put("AUTH_ADMIN_PORT", "off");
    env.put("AUTH_DATA_DIR", dir.resolve("data-" + port).toString());
    env.put("AUTH_INSECURE_DEV_KEYS", "true");
    env.put("AUTH_ARGON2_MEMORY_KIB", "1024");
    env.put("AUTH_ARGON2_ITERATIONS", "1");
    env.putAll(extraEnvironment);
    return builder.start();
  }

  private static void stop(Process server) throws InterruptedException {
    server.destroy();
    if (!server.waitFor(20, TimeUnit.SECONDS)) {
      server.destroyForcibly().waitFor();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
