package dev.authservice.server;

import dev.authservice.server.options.OptionValues;
import dev.authservice.server.options.UsageException;

/** Entry point of the runnable server jar. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // plain java -jar with the JVM's own heap: the server runs in a child JVM with the launcher's
    // options, and this one only waits for it (it loads none of the server's classes)
    java.util.Optional<Integer> relaunched = JvmRelaunch.runIfWanted(args);
    if (relaunched.isPresent()) {
      System.exit(relaunched.get());
    }
    JvmRelaunch.stopWithParent();
    System.exit(serve(args));
  }

  private static int serve(String[] args) {
    // A cold JVM's cost before the store opens: logback sets itself up (LogConfiguration: the
    // pattern layout, the appender; 20-40 ms, against 50-85 when it read an XML file), on the
    // other core while the command line is parsed. The settings are read only after the join:
    // classes they load ask for loggers, and one asked for while logback starts is SLF4J's
    // stand-in, which may stay silent for good.
    Thread logging = Thread.ofPlatform().name("init-logging").start(org.slf4j.LoggerFactory::getILoggerFactory);
    // the machine's memory (a container's limit) for the check of the Argon2id memory cost: 12 ms
    // even with the AOT cache (the management classes, the cgroup files), so on a thread of its own too
    java.util.concurrent.CompletableFuture<java.util.OptionalLong> machineMemory =
        java.util.concurrent.CompletableFuture.supplyAsync(HashMemoryFit::machineMemoryBytes,
            task -> Thread.ofPlatform().name("init-machine-memory").daemon(true).start(task));
    java.util.Map<String, String> environment = System.getenv();
    ServeCommand command;
    try {
      OptionValues values = ServeCommand.OPTIONS.parse(args, environment);
      if (values.helpRequested()) {
        System.out.print(ServeCommand.OPTIONS.help());
        return 0;
      }
      if (values.versionRequested()) {
        System.out.println(ServeCommand.VERSION);
        return 0;
      }
      command = new ServeCommand(values, machineMemory::join);
    } catch (UsageException e) {
      return usageError(e);
    }
    awaitUninterruptibly(logging);
    warnOfUnknownVariables(environment);
    ServerConfig config;
    try {
      config = command.toConfig();
    } catch (IllegalArgumentException e) {
      // a setting's value the server cannot take: the message names it
      return usageError(e);
    } catch (RuntimeException | Error e) {
      return failedToStart(e);
    }
    try {
      return ServeCommand.serve(config);
    } catch (Exception | Error e) {
      // an Error too (a native library that would not load, memory that could not be had): left
      // to end this thread, it would leave the JVM running on the store's and the key loader's
      // threads, never serving and never exiting
      return failedToStart(e);
    }
  }

  private static void warnOfUnknownVariables(java.util.Map<String, String> environment) {
    ServeCommand.OPTIONS.unknownVariables(environment, "AUTH_", ServeCommand.READ_ELSEWHERE).forEach(
        (name, near) -> org.slf4j.LoggerFactory.getLogger(Main.class).warn("{} is set but is no setting of the"
            + " server, which ignores it{}", name, near.map(known -> "; did you mean " + known + "?").orElse("")));
  }

  /** A configuration or start-up failure: one clear line, the cause in the log; exit status 1. */
  private static int failedToStart(Throwable e) {
    org.slf4j.LoggerFactory.getLogger(Main.class).error("auth server failed to start", e);
    System.err.println("auth-server: " + e.getMessage());
    return 1;
  }

  /** A setting the server cannot take: what is wrong and where to look, no stack trace; exit status 2. */
  private static int usageError(IllegalArgumentException e) {
    System.err.println("auth-server: " + e.getMessage());
    System.err.println("auth-server --help lists every setting.");
    return 2;
  }

  private static void awaitUninterruptibly(Thread thread) {
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
