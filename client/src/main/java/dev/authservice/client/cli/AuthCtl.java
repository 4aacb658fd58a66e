package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code authctl}: the auth service from the command line. Global options go before the subcommand. */
@Command(name = "authctl", mixinStandardHelpOptions = true, version = "authctl 0.1.0",
    description = "Command line client of the auth service.",
    subcommands = {LoginCommand.class, RefreshCommand.class, RevokeCommand.class, ValidateCommand.class,
        JwksCommand.class, AuditCommand.class, UsersCommand.class, KeysCommand.class, ReportCommand.class},
    footer = "%n" + ExitCodes.HELP)
public final class AuthCtl {
  @Option(names = "--target", description = "Server host:port; default AUTHCTL_TARGET, else 127.0.0.1:50051.")
  String target;

  @Option(names = "--token", description = "Access token sent as a bearer token; default AUTHCTL_TOKEN.")
  String token;

  @Option(names = "--tls", description = "Connect with TLS (system trust store) instead of plaintext.")
  boolean tls;

  @Option(names = "--plaintext", description = "Connect without TLS (the default; for loopback and sidecars).")
  boolean plaintext;

  @Option(names = "--timeout", defaultValue = "PT10S", converter = IsoDuration.class,
      description = "Deadline of each call, ISO-8601. Default: ${DEFAULT-VALUE}")
  Duration timeout;

  private final InputStream stdin;
  private final Function<String, String> env;

  AuthCtl(InputStream stdin, Function<String, String> env) {
    this.stdin = stdin;
    this.env = env;
  }

  InputStream stdin() {
    return stdin;
  }

  Function<String, String> env() {
    return env;
  }

  /** A client for the global options; with the bearer token if one was given. */
  AuthClient connect() {
    String effectiveTarget = firstNonBlank(target, env.apply("AUTHCTL_TARGET"), "127.0.0.1:50051");
    String effectiveToken = firstNonBlank(token, env.apply("AUTHCTL_TOKEN"), "");
    AuthClient.Builder builder = AuthClient.builder().target(effectiveTarget).deadline(timeout);
    if (tls && !plaintext) {
      builder.tls();
    } else {
      builder.plaintext();
    }
    if (!effectiveToken.isEmpty()) {
      builder.bearerToken(effectiveToken);
    }
    return builder.build();
  }

  private static String firstNonBlank(String... values) {
    for (String value : values) {
      if (value != null && !value.isBlank()) {
        return value.trim();
      }
    }
    return "";
  }

  /** Builds the command line with gRPC failures mapped to exit codes and one-line messages. */
  public static CommandLine commandLine(InputStream stdin, Function<String, String> env) {
    CommandLine cli = new CommandLine(new AuthCtl(stdin, env));
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof StatusRuntimeException sre) {
        String description = sre.getStatus().getDescription();
        commandLine.getErr().println("authctl: " + sre.getStatus().getCode()
            + (description == null ? "" : ": " + TerminalText.safe(description)));
        return ExitCodes.of(sre.getStatus().getCode());
      }
      if (e instanceof CommandLine.ParameterException pe) {
        commandLine.getErr().println("authctl: " + TerminalText.safe(pe.getMessage()));
        return ExitCodes.USAGE;
      }
      commandLine.getErr().println("authctl: " + TerminalText.safe(e.toString()));
      return ExitCodes.INACTIVE_OR_FAILED;
    });
    return cli;
  }

  public static void main(String[] args) {
    Map<String, String> environment = System.getenv();
    System.exit(commandLine(System.in, environment::get).execute(args));
  }
}
