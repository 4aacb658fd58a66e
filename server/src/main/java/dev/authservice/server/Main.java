package dev.authservice.server;

import picocli.CommandLine;

/** Entry point of the runnable server jar. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new ServeCommand());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      // configuration and startup failures: one clear line, the cause in the log
      org.slf4j.LoggerFactory.getLogger(Main.class).error("auth server failed to start", e);
      commandLine.getErr().println("auth-server: " + e.getMessage());
      return 1;
    });
    System.exit(cli.execute(args));
  }
}
