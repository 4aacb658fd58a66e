package dev.authservice.server;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.VMOption;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Started as plain {@code java -jar auth-server.jar}, with no heap option, the JVM sizes the heap
 * from the machine's memory (a quarter of it: 6 GiB on a 24 GiB host) and the server's RSS grows
 * towards it under load (over 1 GiB measured) although it holds keys, revocations and caches, not
 * data. A jar cannot carry JVM options, so this process starts the server once more as a child
 * JVM with the launcher's options (same java, same class path and arguments, inherited I/O and
 * environment), passes SIGTERM and SIGINT on to it, and exits with its status.
 *
 * <p>Only when the JVM chose the heap itself (no {@code -Xmx}, {@code -XX:MaxRAMPercentage}, ...
 * from the command line or {@code JAVA_TOOL_OPTIONS}) and chose one well above what the server
 * needs; never in the child (a system property marks it); never with {@code AUTH_RELAUNCH=false}
 * or {@code --relaunch=false}, for whoever manages the JVM themselves. This class touches none of
 * the server's classes, so the waiting parent stays a small JVM (about 50 MiB of RSS).
 */
final class JvmRelaunch {
  /** Set on the child's command line: the child never relaunches. */
  static final String MARKER = "dev.authservice.relaunched";
  static final String OPT_OUT_VARIABLE = "AUTH_RELAUNCH";
  static final String OPT_OUT_FLAG = "--relaunch";
  /** A JVM-chosen heap above this is "far above what the server needs" (its launcher gives it 128 MiB). */
  static final long LARGEST_DEFAULT_HEAP_KEPT = 512L << 20;

  private JvmRelaunch() {}

  /** The heap as the JVM sized it: its ceiling, and whether anyone chose it. */
  record Heap(long maxBytes, boolean chosenByJvm) {
    static Heap current() {
      VMOption option = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).getVMOption("MaxHeapSize");
      boolean byJvm = option.getOrigin() == VMOption.Origin.DEFAULT || option.getOrigin() == VMOption.Origin.ERGONOMIC;
      return new Heap(Runtime.getRuntime().maxMemory(), byJvm);
    }
  }

  /** Whether to relaunch, given this JVM's heap, environment, system property marker and arguments. */
  static boolean wanted(Heap heap, Map<String, String> environment, boolean relaunched, String[] args) {
    if (relaunched || !heap.chosenByJvm() || heap.maxBytes() <= LARGEST_DEFAULT_HEAP_KEPT) {
      return false;
    }
    Optional<String> flag = flagValue(args);
    String setting = flag.orElse(environment.getOrDefault(OPT_OUT_VARIABLE, "true"));
    return !setting.trim().equalsIgnoreCase("false");
  }

  /** The value of {@code --relaunch} on the command line, if given ({@code --relaunch} alone means true). */
  static Optional<String> flagValue(String[] args) {
    Optional<String> value = Optional.empty();
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith(OPT_OUT_FLAG + "=")) {
        value = Optional.of(args[i].substring(OPT_OUT_FLAG.length() + 1));
      } else if (args[i].equals(OPT_OUT_FLAG)) {
        boolean valueFollows = i + 1 < args.length
            && (args[i + 1].equalsIgnoreCase("true") || args[i + 1].equalsIgnoreCase("false"));
        value = Optional.of(valueFollows ? args[++i] : "true");
      }
    }
    return value;
  }

  /**
   * The child's command: this java, the launcher's options, then the options this JVM was given
   * (so a {@code -D} or an agent still applies, and a later option still wins), the marker, and
   * what was run ({@code -jar} and the jar, or the class path and main class) with the same arguments.
   */
  static List<String> childCommand(String java, List<String> launcherOptions, List<String> inputArguments,
      String classPath, String javaCommand, String mainClass, String[] args) {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(launcherOptions);
    command.addAll(inputArguments);
    command.add("-D" + MARKER + "=true");
    String jar = classPath;
    if (!classPath.contains(File.pathSeparator) && classPath.endsWith(".jar") && javaCommand.startsWith(jar)) {
      // the manifest's Enable-Native-Access applies only to a jar run with -jar
      command.add("-jar");
      command.add(jar);
    } else {
      command.add("-cp");
      command.add(classPath);
      command.add(mainClass);
    }
    command.addAll(List.of(args));
    return command;
  }

  /**
   * The launcher's options for this JVM (bin/auth-server's choice, kept in step by LauncherTest): a
   * heap that follows a container's memory limit, else a fixed small one.
   */
  static List<String> launcherOptions(boolean inContainer, Runtime.Version version) {
    List<String> options = new ArrayList<>(List.of(
        (inContainer ? JvmOptions.CONTAINER_HEAP : JvmOptions.HOST_HEAP).split(" ")));
    options.addAll(List.of(JvmOptions.COMMON.split(" ")));
    if (version.feature() > 21 || (version.feature() == 21 && version.update() >= 1)) {
      options.add(JvmOptions.TRIM_NATIVE_HEAP);
    }
    return options;
  }

  /** A cgroup memory limit below the machine's memory, as the launcher detects it. */
  static boolean inContainer() {
    long machine = machineMemory();
    for (String file : List.of("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
      try {
        String limit = Files.readString(Path.of(file)).trim();
        if (limit.matches("[0-9]{1,18}") && Long.parseLong(limit) < machine) {
          return true;
        }
      } catch (IOException | RuntimeException e) {
        // not this cgroup version
      }
    }
    return false;
  }

  private static long machineMemory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: no cgroup limit either
    }
    return 0;
  }

  /**
   * Relaunches when {@link #wanted}: returns the child's exit status, or empty when this JVM is
   * to run the server itself.
   */
  static Optional<Integer> runIfWanted(String[] args) {
    if (!wanted(Heap.current(), System.getenv(), Boolean.getBoolean(MARKER), args)) {
      return Optional.empty();
    }
    Optional<String> java = ProcessHandle.current().info().command();
    if (java.isEmpty()) {
      return Optional.empty();  // cannot tell which java runs this one: the server runs here and warns
    }
    List<String> command = childCommand(java.get(), launcherOptions(inContainer(), Runtime.version()),
        ManagementFactory.getRuntimeMXBean().getInputArguments(), System.getProperty("java.class.path"),
        System.getProperty("sun.java.command", ""), Main.class.getName(), args);
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    // the options these variables gave are among the input arguments passed on: not twice
    builder.environment().remove("JAVA_TOOL_OPTIONS");
    builder.environment().remove("JDK_JAVA_OPTIONS");
    builder.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
    Process child;
    try {
      child = builder.start();
    } catch (IOException e) {
      System.err.println("auth-server: could not start the server JVM with a bounded heap (" + e.getMessage()
          + "); running it in this one");
      return Optional.empty();
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // SIGTERM or SIGINT to this process: the server shuts down as it would have here, then this exits
      child.destroy();
      Runtime.getRuntime().halt(waitFor(child));
    }, "relaunch-stop"));
    return Optional.of(waitFor(child));
  }

  /**
   * In the relaunched server JVM: stop when the JVM that started it is gone, however it ended, so
   * a server never outlives the process its operator manages (a SIGKILL of the parent, which runs
   * no shutdown hook, would otherwise leave it running, holding its port and its data directory).
   * The server then shuts down as on SIGTERM: calls drained, the store closed.
   */
  static void stopWithParent() {
    if (!Boolean.getBoolean(MARKER)) {
      return;
    }
    ProcessHandle.current().parent().map(ProcessHandle::onExit)
        .orElse(java.util.concurrent.CompletableFuture.completedFuture(null))
        .thenRun(() -> {
          System.err.println("auth-server: the JVM that started this one has ended; stopping");
          // not on the thread that saw the exit: System.exit waits for the shutdown hooks
          new Thread(() -> System.exit(143), "relaunch-parent-gone").start();
        });
  }

  private static int waitFor(Process child) {
    while (true) {
      try {
        return child.waitFor();
      } catch (InterruptedException e) {
        // keep waiting: the child's status is this process's
      }
    }
  }
}
