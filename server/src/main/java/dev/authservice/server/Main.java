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
    // A cold JVM's cost before the store opens: logback reads and applies its XML configuration
    // (class loading, a SAX parser, the pattern layout), on the other core while the settings are
    // read. Nothing here logs before the join; a logger a class asks for meanwhile is SLF4J's
    // stand-in, which hands on to logback's once it is ready.
    Thread logging = Thread.ofPlatform().name("init-logging").start(org.slf4j.LoggerFactory::getILoggerFactory);
    ServerConfig config;
    try {
      OptionValues values = ServeCommand.OPTIONS.parse(args, System.getenv());
      if (values.helpRequested()) {
        System.out.print(ServeCommand.OPTIONS.help());
        return 0;
      }
      if (values.versionRequested()) {
        System.out.println(ServeCommand.VERSION);
        return 0;
      }
      config = new ServeCommand(values).toConfig();
    } catch (UsageException e) {
      return usageError(e);
    } catch (RuntimeException e) {
      awaitUninterruptibly(logging);
      return failedToStart(e);
    }
    awaitUninterruptibly(logging);
    try {
      return ServeCommand.serve(config);
    } catch (Exception e) {
      return failedToStart(e);
    }
  }

  /** A configuration or start-up failure: one clear line, the cause in the log; exit status 1. */
  private static int failedToStart(Exception e) {
    org.slf4j.LoggerFactory.getLogger(Main.class).error("auth server failed to start", e);
    System.err.println("auth-server: " + e.getMessage());
    return 1;
  }

  /** A setting the server cannot take: what is wrong and where to look, no stack trace; exit status 2. */
  private static int usageError(UsageException e) {
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
