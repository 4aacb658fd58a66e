package dev.authservice.server;

import picocli.CommandLine;

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
    // Two independent costs of a cold JVM, one per core: logback reads and applies its XML
    // configuration (class loading, a SAX parser, the pattern layout) while picocli builds the
    // command's model by reflecting over every option. Nothing logs before the join; a logger
    // asked for meanwhile would only be a stand-in until logback is ready (SLF4J's own rule).
    Thread logging = Thread.ofPlatform().name("init-logging").start(org.slf4j.LoggerFactory::getILoggerFactory);
    CommandLine cli = new CommandLine(new ServeCommand());
    awaitUninterruptibly(logging);
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      // configuration and startup failures: one clear line, the cause in the log
      org.slf4j.LoggerFactory.getLogger(Main.class).error("auth server failed to start", e);
      commandLine.getErr().println("auth-server: " + e.getMessage());
      return 1;
    });
    return cli.execute(args);
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
