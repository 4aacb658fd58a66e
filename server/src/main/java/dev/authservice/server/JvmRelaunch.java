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
import java.util.OptionalLong;

/**
 * Started as plain {@code java -jar auth-server.jar}, with no heap option, the JVM sizes the heap
 * from the machine's memory (a quarter of it: 6 GiB on a 24 GiB host) and the server's RSS grows
 * towards it under load (over 1 GiB measured) although it holds keys, revocations and caches, not
 * data. A jar cannot carry JVM options, so this process starts the server once more as a child
 * JVM with the launcher's options (same java, same class path and arguments, inherited I/O and
 * environment), passes SIGTERM and SIGINT on to it, and exits with its status. The child's command
 * line, which any user of the host can read, holds only what this one's did and the launcher's
 * options; the options from JAVA_TOOL_OPTIONS and the like reach it through its environment, as
 * they reached this JVM.
 *
 * <p>Only when the JVM chose the heap itself (no {@code -Xmx}, {@code -XX:MaxRAMPercentage}, ...
 * from the command line or {@code JAVA_TOOL_OPTIONS}) and chose one well above what the server
 * needs; never in the child (a system property marks it); never with {@code AUTH_RELAUNCH=false}
 * or {@code --relaunch=false}, for whoever manages the JVM themselves. This class touches none of
 * the server's classes, so the waiting parent stays a small JVM (about 50 MiB of RSS).
 */
final class JvmRelaunch {
  /**
   * Set on the child's command line to the parent's pid: the child never relaunches, and stops
   * when that process is no longer its parent.
   */
  static final String MARKER = "dev.authservice.relaunched";
  /**
   * The variables the JVM (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS) or the java launcher
   * (JDK_JAVA_OPTIONS) reads options from. They stay in the child's environment, readable only by
   * its user, and their options stay off its command line, which every user of the host can read
   * in /proc: an operator puts an agent's API key or a store password there, not in ps.
   */
  static final List<String> OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS");
  /** Chooses the collector: the launcher's own choice gives way to it (two would stop the JVM). */
  private static final java.util.regex.Pattern COLLECTOR = java.util.regex.Pattern.compile("-XX:\\+Use\\w*GC");
  private static final String SERIAL_COLLECTOR = JvmOptions.COLLECTOR;
  static final String OPT_OUT_VARIABLE = "AUTH_RELAUNCH";
  static final String OPT_OUT_FLAG = "--relaunch";
  /** A JVM-chosen heap above this is "far above what the server needs" (its launcher gives it 96 MiB). */
  static final long LARGEST_DEFAULT_HEAP_KEPT = 512L << 20;

  private JvmRelaunch() {}

  /**
   * The flags that size the heap: its ceiling, its start and floor, and the shares of memory the JVM
   * derives them from. Any of them given means the operator sized the heap: a relaunch with the
   * launcher's 96 MiB would override a share, and would stop at start under an {@code -Xms1g}
   * (initial heap above the maximum).
   */
  private static final List<String> HEAP_FLAGS = List.of("MaxHeapSize", "InitialHeapSize", "MinHeapSize", "MaxRAM",
      "MaxRAMPercentage", "InitialRAMPercentage", "MinRAMPercentage", "MaxRAMFraction", "InitialRAMFraction",
      "MinRAMFraction");

  /** The heap as the JVM sized it: its ceiling, and whether the JVM chose it (no heap flag given). */
  record Heap(long maxBytes, boolean chosenByJvm) {
    static Heap current() {
      HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      boolean byJvm = HEAP_FLAGS.stream().allMatch(flag -> setByJvm(vm, flag));
      return new Heap(Runtime.getRuntime().maxMemory(), byJvm);
    }

    private static boolean setByJvm(HotSpotDiagnosticMXBean vm, String flag) {
      try {
        VMOption.Origin origin = vm.getVMOption(flag).getOrigin();
        return origin == VMOption.Origin.DEFAULT || origin == VMOption.Origin.ERGONOMIC;
      } catch (IllegalArgumentException absent) {
        return true;  // a flag this JVM does not have (the RAM fractions are gone from newer JDKs)
      }
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
  static List<String> childCommand(String java, List<String> launcherOptions, List<String> commandLineOptions,
      long parentPid, String classPath, String javaCommand, String mainClass, String[] args) {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(launcherOptions);
    command.addAll(commandLineOptions);
    command.add("-D" + MARKER + "=" + parentPid);
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
   * heap that follows a container's memory limit, else a fixed small one with its young
   * generation's floor (a relaunch happens only when no heap size was given, so the launcher's heap
   * is the one the server gets).
   */
  static List<String> launcherOptions(boolean inContainer, Runtime.Version version) {
    List<String> options = new ArrayList<>(List.of(
        (inContainer ? JvmOptions.CONTAINER_HEAP : JvmOptions.HOST_HEAP).split(" ")));
    if (!inContainer) {
      options.add(JvmOptions.YOUNG_FLOOR);
    }
    options.addAll(List.of(JvmOptions.COMMON.split(" ")));
    if (version.feature() > 21 || (version.feature() == 21 && version.update() >= 1)) {
      options.add(JvmOptions.TRIM_NATIVE_HEAP);
    }
    return options;
  }

  /**
   * The launcher's options for a JVM given {@code givenOptions}, as bin/auth-server chooses them:
   * <ul>
   *   <li>without its collector when those choose one ({@code java -XX:+UseG1GC -jar ...}), which
   *       would otherwise stop the child at start with "Multiple garbage collectors selected", and
   *       then without Serial's tuning too (the free ratios, the shrinking, the young generation's
   *       floor), which was measured with Serial only;</li>
   *   <li>without its free ratios when those set the minimum, without its maximum when those set
   *       the maximum (the JVM refuses a minimum above the maximum, so one of the launcher's would
   *       stop a JVM the operator's ratio alone would not);</li>
   *   <li>without the young generation's floor when those size the young generation.</li>
   * </ul>
   * (A relaunch happens only when no heap size was given, so the floor's other condition does not arise.)
   */
  static List<String> launcherOptions(boolean inContainer, Runtime.Version version, List<String> givenOptions) {
    List<String> options = launcherOptions(inContainer, version);
    List<String> serialTuning = List.of((JvmOptions.FREE_RATIOS + " " + JvmOptions.SHRINK_AT_ONCE + " "
        + JvmOptions.YOUNG_FLOOR).split(" "));
    if (givenOptions.stream().anyMatch(o -> COLLECTOR.matcher(o).matches())) {
      options.remove(SERIAL_COLLECTOR);
      if (!givenOptions.contains(SERIAL_COLLECTOR)) {
        options.removeAll(serialTuning);
      }
    }
    List<String> ratios = List.of(JvmOptions.FREE_RATIOS.split(" "));
    if (givenOptions.stream().anyMatch(JvmOptions::setsMinimumFreeRatio)) {
      options.removeAll(ratios);
    } else if (givenOptions.stream().anyMatch(JvmOptions::setsMaximumFreeRatio)) {
      options.remove(ratios.get(1));
    }
    if (givenOptions.stream().anyMatch(JvmOptions::sizesYoungGeneration)) {
      options.remove(JvmOptions.YOUNG_FLOOR);
    }
    return options;
  }

  /**
   * The options this JVM was given on its command line: its input arguments without those it took
   * from the {@link #OPTION_VARIABLES} (the JVM puts JAVA_TOOL_OPTIONS' first, JDK_JAVA_OPTIONS'
   * next, _JAVA_OPTIONS' last); empty when they cannot be told apart (an {@code @file} or
   * {@code -XX:Flags=} in a variable): then no relaunch, rather than a secret on a command line.
   */
  static Optional<List<String>> commandLineOptions(List<String> inputArguments, Map<String, String> environment) {
    List<String> tool = tokens(environment.get("JAVA_TOOL_OPTIONS"));
    List<String> launcher = tokens(environment.get("JDK_JAVA_OPTIONS"));
    List<String> last = tokens(environment.get("_JAVA_OPTIONS"));
    int head = tool.size() + launcher.size();
    int tail = inputArguments.size() - last.size();
    if (tail < head || !inputArguments.subList(0, tool.size()).equals(tool)
        || !inputArguments.subList(tool.size(), head).equals(launcher)
        || !inputArguments.subList(tail, inputArguments.size()).equals(last)) {
      return Optional.empty();
    }
    return Optional.of(List.copyOf(inputArguments.subList(head, tail)));
  }

  /** An options variable split as the JVM splits it: on white space, quotes (single or double) kept together and dropped. */
  static List<String> tokens(String value) {
    List<String> tokens = new ArrayList<>();
    if (value == null) {
      return tokens;
    }
    StringBuilder token = null;
    char quote = 0;
    for (char c : value.toCharArray()) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          token.append(c);
        }
      } else if (Character.isWhitespace(c)) {
        if (token != null) {
          tokens.add(token.toString());
          token = null;
        }
      } else {
        if (token == null) {
          token = new StringBuilder();
        }
        if (c == '\'' || c == '"') {
          quote = c;
        } else {
          token.append(c);
        }
      }
    }
    if (token != null) {
      tokens.add(token.toString());
    }
    return tokens;
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

  /** The kernel's transparent huge page setting (e.g. "always [madvise] never"); empty when unreadable. */
  static String transparentHugePages() {
    try {
      return Files.readString(Path.of(JvmOptions.TRANSPARENT_HUGE_PAGES)).trim();
    } catch (IOException | RuntimeException e) {
      return "";  // not Linux, or no THP: glibc's defaults stay
    }
  }

  /** What {@code getconf GNU_LIBC_VERSION} says ("glibc 2.36"); empty when it cannot tell (musl, not Linux). */
  static String glibcVersion() {
    try {
      Process getconf = new ProcessBuilder("getconf", "GNU_LIBC_VERSION").redirectErrorStream(true).start();
      String version = new String(getconf.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
      return getconf.waitFor(5, java.util.concurrent.TimeUnit.SECONDS) && getconf.exitValue() == 0 ? version : "";
    } catch (IOException | RuntimeException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
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
    if (!wanted(Heap.current(), System.getenv(), System.getProperty(MARKER) != null, args)) {
      return Optional.empty();
    }
    Optional<String> java = ProcessHandle.current().info().command();
    List<String> inputArguments = ManagementFactory.getRuntimeMXBean().getInputArguments();
    Optional<List<String>> given = commandLineOptions(inputArguments, System.getenv());
    if (java.isEmpty() || given.isEmpty()) {
      // cannot tell which java runs this one, or which options came from where: the server runs here and warns
      return Optional.empty();
    }
    List<String> command = childCommand(java.get(), launcherOptions(inContainer(), Runtime.version(), inputArguments),
        given.get(), ProcessHandle.current().pid(), System.getProperty("java.class.path"),
        System.getProperty("sun.java.command", ""), Main.class.getName(), args);
    // the environment as it is, the option variables included: the child JVM reads them itself
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    builder.environment().putAll(JvmOptions.mallocEnvironment(builder.environment(), transparentHugePages(), glibcVersion()));
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
    OptionalLong parentPid = parentPid(System.getProperty(MARKER));
    if (parentPid.isEmpty()) {
      return;
    }
    // the parent may have died before this JVM got here (a SIGKILL while it started): this one is
    // then another process's child (init's or a subreaper's), and that one's exit would never come
    ProcessHandle.current().parent().filter(parent -> parent.pid() == parentPid.getAsLong())
        .map(ProcessHandle::onExit)
        .orElse(java.util.concurrent.CompletableFuture.completedFuture(null))
        .thenRun(() -> {
          System.err.println("auth-server: the JVM that started this one has ended; stopping");
          // not on the thread that saw the exit: System.exit waits for the shutdown hooks
          new Thread(() -> System.exit(143), "relaunch-parent-gone").start();
        });
  }

  /** The parent's pid from the marker's value; empty when not relaunched (or marked by hand, without one). */
  static OptionalLong parentPid(String marker) {
    if (marker == null || !marker.matches("[0-9]{1,18}")) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Long.parseLong(marker));
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
