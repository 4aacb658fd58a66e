package dev.authservice.server;

import dev.authservice.server.password.HashParams;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code auth-server}: every setting is a flag and an environment variable (the flag wins).
 * Parses them into a {@link ServerConfig} and runs {@link AuthServer} until SIGTERM.
 */
@Command(name = "auth-server", mixinStandardHelpOptions = true, version = "auth-server 0.1.0",
    description = "gRPC authentication service: Login, Validate, QueryAudit, user admin.",
    footer = "%nEvery option can also be set by the environment variable in its description.")
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--bind-address", defaultValue = "${env:AUTH_BIND_ADDRESS:-127.0.0.1}",
      description = "Address to listen on (AUTH_BIND_ADDRESS). Default: ${DEFAULT-VALUE}")
  String bindAddress;

  @Option(names = "--port", defaultValue = "${env:AUTH_PORT:-50051}",
      description = "Port to listen on, 0 for any free one (AUTH_PORT). Default: ${DEFAULT-VALUE}")
  int port;

  @Option(names = "--data-dir", defaultValue = "${env:AUTH_DATA_DIR:-data}",
      description = "Directory for the embedded store and local state (AUTH_DATA_DIR). Default: ${DEFAULT-VALUE}")
  Path dataDir;

  @Option(names = "--mongodb-uri", defaultValue = "${env:MONGODB_URI:-}",
      description = "MongoDB connection string; unset means the embedded store (MONGODB_URI).")
  String mongoUri;

  @Option(names = "--mongodb-database", defaultValue = "${env:AUTH_MONGODB_DATABASE:-auth}",
      description = "Database name (AUTH_MONGODB_DATABASE). Default: ${DEFAULT-VALUE}")
  String database;

  @Option(names = "--issuer", defaultValue = "${env:AUTH_ISSUER:-auth-service}",
      description = "The iss claim of issued tokens (AUTH_ISSUER). Default: ${DEFAULT-VALUE}")
  String issuer;

  @Option(names = "--audience", defaultValue = "${env:AUTH_AUDIENCE:-auth-service}",
      description = "Default audience for Login and Validate (AUTH_AUDIENCE). Default: ${DEFAULT-VALUE}")
  String audience;

  @Option(names = "--allowed-audiences", defaultValue = "${env:AUTH_ALLOWED_AUDIENCES:-}",
      description = "Comma-separated further audiences Login may issue tokens for (AUTH_ALLOWED_AUDIENCES).")
  String allowedAudiences;

  @Option(names = "--client-id", defaultValue = "${env:AUTH_CLIENT_ID:-auth-service}",
      description = "The client_id claim of issued tokens (AUTH_CLIENT_ID). Default: ${DEFAULT-VALUE}")
  String clientId;

  @Option(names = "--token-ttl", defaultValue = "${env:AUTH_TOKEN_TTL:-PT15M}",
      converter = IsoDurationConverter.class,
      description = "Access token lifetime, ISO-8601 (AUTH_TOKEN_TTL). Default: ${DEFAULT-VALUE}")
  Duration tokenTtl;

  @Option(names = "--clock-skew", defaultValue = "${env:AUTH_CLOCK_SKEW:-PT30S}",
      converter = IsoDurationConverter.class,
      description = "Tolerance for exp/nbf/iat checks, ISO-8601 (AUTH_CLOCK_SKEW). Default: ${DEFAULT-VALUE}")
  Duration clockSkew;

  @Option(names = "--bootstrap-admin-username", defaultValue = "${env:AUTH_BOOTSTRAP_ADMIN_USERNAME:-}",
      description = "Admin created at start when no enabled admin exists (AUTH_BOOTSTRAP_ADMIN_USERNAME).")
  String bootstrapAdminUsername;

  @Option(names = "--bootstrap-admin-password", defaultValue = "${env:AUTH_BOOTSTRAP_ADMIN_PASSWORD:-}",
      description = "Its password; prefer the environment variable, flags show in ps (AUTH_BOOTSTRAP_ADMIN_PASSWORD).")
  String bootstrapAdminPassword;

  @Option(names = "--argon2-memory-kib", defaultValue = "${env:AUTH_ARGON2_MEMORY_KIB:-19456}",
      description = "Argon2id memory cost in KiB (AUTH_ARGON2_MEMORY_KIB). Default: ${DEFAULT-VALUE}")
  int argon2MemoryKib;

  @Option(names = "--argon2-iterations", defaultValue = "${env:AUTH_ARGON2_ITERATIONS:-2}",
      description = "Argon2id time cost (AUTH_ARGON2_ITERATIONS). Default: ${DEFAULT-VALUE}")
  int argon2Iterations;

  @Option(names = "--argon2-parallelism", defaultValue = "${env:AUTH_ARGON2_PARALLELISM:-1}",
      description = "Argon2id lanes (AUTH_ARGON2_PARALLELISM). Default: ${DEFAULT-VALUE}")
  int argon2Parallelism;

  @Option(names = "--max-message-bytes", defaultValue = "${env:AUTH_MAX_MESSAGE_BYTES:-65536}",
      description = "Largest accepted request message (AUTH_MAX_MESSAGE_BYTES). Default: ${DEFAULT-VALUE}")
  int maxMessageBytes;

  @Option(names = "--trusted-proxies", defaultValue = "${env:AUTH_TRUSTED_PROXIES:-}",
      description = "Comma-separated CIDRs whose x-forwarded-for is believed (AUTH_TRUSTED_PROXIES).")
  String trustedProxies;

  @Option(names = "--instance-id", defaultValue = "${env:AUTH_INSTANCE_ID:-}",
      description = "Name of this instance in audit events (AUTH_INSTANCE_ID). Default: host name plus a random suffix")
  String instanceId;

  @Option(names = "--store-timeout", defaultValue = "${env:AUTH_STORE_TIMEOUT:-PT2S}",
      converter = IsoDurationConverter.class,
      description = "How long to wait for MongoDB before failing a call, ISO-8601 (AUTH_STORE_TIMEOUT). Default: ${DEFAULT-VALUE}")
  Duration storeTimeout;

  @Override
  public Integer call() throws Exception {
    AuthServer server = AuthServer.start(toConfig());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // the logger may already be shut down by now
      System.err.println("auth server shutting down");
      server.close();
      stopped.countDown();
    }, "shutdown"));
    server.awaitTermination();
    stopped.await();
    return 0;
  }

  ServerConfig toConfig() {
    ServerConfig.Builder builder = ServerConfig.builder(dataDir)
        .bindAddress(bindAddress)
        .port(port)
        .mongoUri(blankToEmpty(mongoUri))
        .database(database)
        .issuer(issuer)
        .defaultAudience(audience)
        .allowedAudiences(Set.copyOf(commaList(allowedAudiences)))
        .clientId(clientId)
        .tokenTtl(tokenTtl)
        .clockSkew(clockSkew)
        .bootstrapAdmin(blankToEmpty(bootstrapAdminUsername), blankToEmpty(bootstrapAdminPassword))
        .hashParams(new HashParams(argon2MemoryKib, argon2Iterations, argon2Parallelism))
        .maxInboundMessageBytes(maxMessageBytes)
        .trustedProxies(commaList(trustedProxies))
        .storeTimeout(storeTimeout);
    blankToEmpty(instanceId).ifPresent(builder::instanceId);
    return builder.build();
  }

  private static Optional<String> blankToEmpty(String value) {
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  private static List<String> commaList(String value) {
    return value == null ? List.of()
        : Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  /** ISO-8601 durations such as PT15M or P1D, with an error message that says so. */
  static final class IsoDurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Duration.parse(value.trim());
      } catch (DateTimeParseException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not an ISO-8601 duration such as PT15M, PT30S or P1D");
      }
    }
  }
}
