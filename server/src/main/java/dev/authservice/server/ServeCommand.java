package dev.authservice.server;

import dev.authservice.server.usecase.StreamSettings;
import dev.authservice.server.password.HashParams;
import dev.authservice.server.review.ReviewSettings;
import dev.authservice.server.throttle.ThrottleSettings;
import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.options.CommandLineOption;
import dev.authservice.server.options.CommandLineOptions;
import dev.authservice.server.options.OptionValues;
import dev.authservice.server.options.UsageException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code auth-server}: every setting is a flag and an environment variable (the flag wins), listed
 * once in {@link #OPTIONS}. Reads them into a {@link ServerConfig} ({@link #toConfig}) and runs
 * {@link AuthServer} until SIGTERM ({@link #serve}).
 */
final class ServeCommand {
  static final String VERSION = "auth-server 0.1.0";

  /** Every setting of the server, in the order {@code --help} lists them (docs/settings.md is their reference). */
  static final CommandLineOptions OPTIONS = new CommandLineOptions("auth-server",
      "gRPC authentication service: Login, Validate, QueryAudit, user admin.", List.of(
    CommandLineOption.of("--bind-address", "AUTH_BIND_ADDRESS", "127.0.0.1",
        "Address to listen on."),
    CommandLineOption.of("--port", "AUTH_PORT", "50051", "Port to listen on, 0 for any free one."),
    CommandLineOption.of("--http-port", "AUTH_HTTP_PORT", "8080", "Port of the public HTTP listener serving the JWK "
        + "Set and the issuer metadata (/.well-known/...); 0 for any free one, off for none."),
    CommandLineOption.of("--http-bind-address", "AUTH_HTTP_BIND_ADDRESS", "127.0.0.1",
        "Address of the public HTTP listener; plaintext only on loopback, as for gRPC."),
    CommandLineOption.of("--public-base-url", "AUTH_PUBLIC_BASE_URL", "",
        "The URL clients reach the public HTTP listener by, such as https://auth.example.com: jwks_uri is built on "
        + "it; unset: derived from the bind address and port."),
    CommandLineOption.of("--jwks-max-age", "AUTH_JWKS_MAX_AGE", "PT1M",
        "Cache-Control max-age of the JWK Set and the metadata, at most PT1H; PT0S: no-cache."),
    CommandLineOption.of("--admin-port", "AUTH_ADMIN_PORT", "9464", "Port of the admin HTTP listener serving "
        + "/metrics, /health/live and /health/ready; 0 for any free one, off for none."),
    CommandLineOption.of("--admin-bind-address", "AUTH_ADMIN_BIND_ADDRESS", "127.0.0.1",
        "Address of the admin HTTP listener (plaintext, no authentication: expose it to the monitoring system "
        + "only)."),
    CommandLineOption.of("--http-threads", "AUTH_HTTP_THREADS", "4", "Threads of each HTTP listener."),
    CommandLineOption.of("--http-queue", "AUTH_HTTP_QUEUE", "64", "Requests each HTTP listener holds waiting for a "
        + "thread; beyond, new connections are closed."),
    CommandLineOption.of("--http-request-timeout", "AUTH_HTTP_REQUEST_TIMEOUT", "PT10S",
        "Longest an HTTP exchange may take, from the request's first byte to the answer's last; then the connection "
        + "is closed; at most PT1M."),
    CommandLineOption.of("--data-dir", "AUTH_DATA_DIR", "data", "Directory for the embedded store and local state."),
    CommandLineOption.of("--mongodb-uri", "MONGODB_URI", "", "MongoDB connection string; unset means the embedded "
        + "store."),
    CommandLineOption.onOff("--embedded-store-uri-file", "AUTH_EMBEDDED_STORE_URI_FILE", false, "Write the embedded "
        + "store's connection string, with its per-start credential, to embedded-store.uri in the data directory "
        + "(0600) for tools run as the server's OS user, such as the benchmark; removed at shutdown."),
    CommandLineOption.of("--mongodb-database", "AUTH_MONGODB_DATABASE", "auth",
        "Database name."),
    CommandLineOption.of("--issuer", "AUTH_ISSUER", "auth-service", "The iss claim of issued tokens."),
    CommandLineOption.of("--audience", "AUTH_AUDIENCE", "auth-service",
        "Default audience for Login and Validate."),
    CommandLineOption.of("--allowed-audiences", "AUTH_ALLOWED_AUDIENCES", "",
        "Comma-separated further audiences Login may issue tokens for."),
    CommandLineOption.of("--client-id", "AUTH_CLIENT_ID", "auth-service",
        "The client_id claim of issued tokens."),
    CommandLineOption.of("--token-ttl", "AUTH_TOKEN_TTL", "PT15M", "Access token lifetime, ISO-8601."),
    CommandLineOption.of("--clock-skew", "AUTH_CLOCK_SKEW", "PT30S", "Tolerance for exp/nbf/iat checks, ISO-8601."),
    CommandLineOption.of("--bootstrap-admin-username", "AUTH_BOOTSTRAP_ADMIN_USERNAME", "",
        "Admin created at start when no enabled admin exists."),
    CommandLineOption.of("--bootstrap-admin-password", "AUTH_BOOTSTRAP_ADMIN_PASSWORD", "",
        "Its password; prefer the environment variable, flags show in ps."),
    CommandLineOption.of("--argon2-memory-kib", "AUTH_ARGON2_MEMORY_KIB", "19456",
        "Argon2id memory cost in KiB."),
    CommandLineOption.of("--argon2-iterations", "AUTH_ARGON2_ITERATIONS", "2",
        "Argon2id time cost, 1 to 64."),
    CommandLineOption.of("--argon2-parallelism", "AUTH_ARGON2_PARALLELISM", "1",
        "Argon2id lanes, 1 to 16."),
    CommandLineOption.of("--max-message-bytes", "AUTH_MAX_MESSAGE_BYTES", "65536",
        "Largest accepted request message."),
    CommandLineOption.of("--trusted-proxies", "AUTH_TRUSTED_PROXIES", "",
        "Comma-separated CIDRs whose x-forwarded-for is believed."),
    CommandLineOption.of("--instance-id", "AUTH_INSTANCE_ID", "", "Name of this instance in audit events; unset: "
        + "the host name plus a random suffix."),
    CommandLineOption.of("--store-timeout", "AUTH_STORE_TIMEOUT", "PT1.5S",
        "How long to wait for MongoDB before failing a call, ISO-8601."),
    CommandLineOption.of("--signing-algorithm", "AUTH_SIGNING_ALGORITHM", "RS256",
        "Algorithm of new signing keys: RS256, ES256 or EdDSA."),
    CommandLineOption.of("--key-rotation-interval", "AUTH_KEY_ROTATION_INTERVAL", "P30D",
        "Rotate the signing key when it is this old, ISO-8601; PT0S: only on demand."),
    CommandLineOption.of("--key-publication-lead", "AUTH_KEY_PUBLICATION_LEAD", "PT1H",
        "A scheduled rotation publishes the next signing key in the JWK Set this long before it signs; at least "
        + "AUTH_JWKS_MAX_AGE plus PT10S, at most half the rotation interval."),
    CommandLineOption.of("--key-encryption-key-file", "AUTH_KEY_ENCRYPTION_KEY_FILE", "",
        "File holding the base64 key-encryption key; or set AUTH_KEY_ENCRYPTION_KEY itself in the environment."),
    CommandLineOption.onOff(JvmRelaunch.OPT_OUT_FLAG, "AUTH_RELAUNCH", true, "Started without a heap option (plain "
        + "java -jar) on a machine where the JVM would take a heap far above what the server needs: run the server "
        + "in a child JVM with the launcher's options (bounded heap, serial collector); false: run in this JVM as "
        + "started, for whoever sizes the JVM themselves."),
    CommandLineOption.onOff("--insecure-dev-keys", "AUTH_INSECURE_DEV_KEYS", false, "Allow signing keys stored "
        + "unencrypted, for development only."),
    CommandLineOption.of("--audit-key-rotation-interval", "AUTH_AUDIT_KEY_ROTATION_INTERVAL", "P90D",
        "Rotate the audit checkpoint signing key when it is this old, ISO-8601, at least P1D (audit keys are kept "
        + "forever); 0 or PT0S: only on demand."),
    CommandLineOption.onOff("--encrypt-plaintext-keys", "AUTH_ENCRYPT_PLAINTEXT_KEYS", false, "For one start: "
        + "encrypt under the key-encryption key the private keys that a run with insecure development keys left "
        + "unencrypted, logging each kid; without it such keys stop the start."),
    CommandLineOption.of("--refresh-token-ttl", "AUTH_REFRESH_TOKEN_TTL", "P1D",
        "Refresh token lifetime, renewed by each refresh."),
    CommandLineOption.of("--session-max-lifetime", "AUTH_SESSION_MAX_LIFETIME", "P30D",
        "How long refreshing can extend one login."),
    CommandLineOption.of("--revocation-poll-interval", "AUTH_REVOCATION_POLL_INTERVAL", "PT0.25S",
        "How often revocations made elsewhere are read from the store."),
    CommandLineOption.of("--throttle-after-failures", "AUTH_THROTTLE_AFTER_FAILURES", "5",
        "Consecutive failed logins before waits begin."),
    CommandLineOption.of("--throttle-max-wait", "AUTH_THROTTLE_MAX_WAIT", "PT15M",
        "Longest wait imposed after failures."),
    CommandLineOption.of("--lockout-after-failures", "AUTH_LOCKOUT_AFTER_FAILURES", "0",
        "Failures that lock an account until an admin unlocks it; 0 never."),
    CommandLineOption.of("--ip-failure-limit", "AUTH_IP_FAILURE_LIMIT", "20",
        "Login attempts per source address (IPv6: per /64) per minute that did not succeed, shared by all "
        + "instances; 0 turns it off."),
    CommandLineOption.of("--login-account-wait", "AUTH_LOGIN_ACCOUNT_WAIT", "PT5S",
        "How long a login waits while another login of the same account is being checked on this instance; then it "
        + "is refused."),
    CommandLineOption.of("--login-account-queue", "AUTH_LOGIN_ACCOUNT_QUEUE", "32",
        "How many logins of one account may wait so on this instance; more are refused at once."),
    CommandLineOption.of("--tls-cert-file", "AUTH_TLS_CERT_FILE", "", "PEM certificate chain; with --tls-key-file "
        + "turns TLS on."),
    CommandLineOption.of("--tls-key-file", "AUTH_TLS_KEY_FILE", "", "PEM PKCS#8 private key of the certificate."),
    CommandLineOption.of("--tls-client-ca-file", "AUTH_TLS_CLIENT_CA_FILE", "",
        "PEM CA certificates; callers must present a certificate they signed."),
    CommandLineOption.onOff("--allow-plaintext", "AUTH_ALLOW_PLAINTEXT", false, "Serve without TLS on a "
        + "non-loopback address; logs a warning."),
    CommandLineOption.onOff("--validate-require-caller", "AUTH_VALIDATE_REQUIRE_CALLER", false, "Validate needs a "
        + "client certificate (mutual TLS) or a bearer token with role validator or admin."),
    CommandLineOption.of("--validate-failure-limit", "AUTH_VALIDATE_FAILURE_LIMIT", "0",
        "Inactive tokens one authenticated caller (client certificate or bearer token) may present per minute "
        + "before its answers about inactive tokens are slowed by --validate-failure-delay; valid tokens are never "
        + "slowed or refused; 0 turns it off."),
    CommandLineOption.of("--validate-failure-delay", "AUTH_VALIDATE_FAILURE_DELAY", "PT1S",
        "How much later an answer about an inactive token comes once its caller passed --validate-failure-limit."),
    CommandLineOption.of("--refusal-rollup-max-keys", "AUTH_REFUSAL_ROLLUP_MAX_KEYS", "1000",
        "Groups of refused calls (type, reason, method, caller) counted per minute before further ones are counted "
        + "without their caller."),
    CommandLineOption.of("--summary-max-groups", "AUTH_SUMMARY_MAX_GROUPS", "10000",
        "Rows SummarizeAudit holds for one call; past that, further groups are counted in each bucket's row marked "
        + "other."),
    CommandLineOption.of("--review-max-events", "AUTH_REVIEW_MAX_EVENTS", "200000",
        "Events one review rule holds in memory; past that, the later events of the window are not examined and a "
        + "warning is logged."),
    CommandLineOption.of("--audit-retention", "AUTH_AUDIT_RETENTION", "P0D",
        "Keep audit events this long, ISO-8601 (e.g. P90D); P0D keeps them forever."),
    CommandLineOption.of("--audit-sweep-interval", "AUTH_AUDIT_SWEEP_INTERVAL", "PT5M",
        "How often events past the retention are purged, with a signed purge checkpoint."),
    CommandLineOption.of("--validation-audit", "AUTH_VALIDATION_AUDIT", "every",
        "Audit of successful validations: every (one event each) or rollup (counted per token, caller and minute)."),
    CommandLineOption.of("--rollup-flush-interval", "AUTH_ROLLUP_FLUSH_INTERVAL", "PT5S",
        "How often rollup counts are written; a crash loses at most this window of counts."),
    CommandLineOption.of("--audit-checkpoint-interval", "AUTH_AUDIT_CHECKPOINT_INTERVAL", "PT10S",
        "How often a signed audit checkpoint is written when there is something new."),
    CommandLineOption.of("--embedded-journal-interval", "AUTH_EMBEDDED_JOURNAL_INTERVAL", "PT1S",
        "On the embedded store: how often it commits its file, after which the audit journal that made events "
        + "durable meanwhile is deleted; a restart after a crash replays at most about this much; PT0.01S to PT1M."),
    CommandLineOption.of("--stream-max-per-caller", "AUTH_STREAM_MAX_PER_CALLER", "4",
        "StreamAudit calls one caller may have open on this instance; more are RESOURCE_EXHAUSTED."),
    CommandLineOption.of("--stream-max-open", "AUTH_STREAM_MAX_OPEN", "64",
        "StreamAudit calls this instance serves at once, all callers together."),
    CommandLineOption.of("--stream-recheck-interval", "AUTH_STREAM_RECHECK_INTERVAL", "PT2S",
        "How often an open StreamAudit call checks its caller's token, account and role while it waits; it also "
        + "checks before each batch it sends; at most PT1M."),
    CommandLineOption.of("--analytics-max-per-caller", "AUTH_ANALYTICS_MAX_PER_CALLER", "2",
        "SummarizeAudit and VerifyAudit calls one caller may have in progress on this instance; more are "
        + "RESOURCE_EXHAUSTED."),
    CommandLineOption.of("--analytics-max-at-once", "AUTH_ANALYTICS_MAX_AT_ONCE", "4",
        "SummarizeAudit and VerifyAudit calls this instance runs at once, all callers together; under the "
        + "embedded store's 16 command threads, so that logins and validations always find one."),
    CommandLineOption.of("--verify-max-checkpoints", "AUTH_VERIFY_MAX_CHECKPOINTS", "50000",
        "The most checkpoints VerifyAudit keeps in memory (about 0.7 KB each); a trail with more is "
        + "RESOURCE_EXHAUSTED: turn on retention, or export the trail and verify it with authctl."),
    CommandLineOption.of("--review-schedule", "AUTH_REVIEW_SCHEDULE", "0 2 * * *",
        "When to review the previous UTC day for suspicious activity: a five-field cron expression in UTC, or off."),
    CommandLineOption.of("--review-failed-login-burst", "AUTH_REVIEW_FAILED_LOGIN_BURST", "10/PT5M",
        "FAILED_LOGIN_BURST: failed logins of one username within a time, or off."),
    CommandLineOption.of("--review-credential-stuffing", "AUTH_REVIEW_CREDENTIAL_STUFFING", "5/PT5M",
        "CREDENTIAL_STUFFING: distinct usernames failing from one address within a time, or off."),
    CommandLineOption.of("--review-success-after-failures", "AUTH_REVIEW_SUCCESS_AFTER_FAILURES", "5/PT10M",
        "SUCCESS_AFTER_FAILURES: failures before a successful login within a time, or off."),
    CommandLineOption.of("--review-new-address", "AUTH_REVIEW_NEW_ADDRESS", "20/5",
        "NEW_ADDRESS: previous successful logins compared / the fewest a user needs, or off."),
    CommandLineOption.of("--review-token-forgery", "AUTH_REVIEW_TOKEN_FORGERY", "3/PT5M",
        "TOKEN_FORGERY: validations failing on signature, algorithm or key from one address within a time, or off."),
    CommandLineOption.of("--review-revoked-token-use", "AUTH_REVIEW_REVOKED_TOKEN_USE", "on",
        "REVOKED_TOKEN_USE: on or off."),
    CommandLineOption.of("--review-admin-hours", "AUTH_REVIEW_ADMIN_HOURS", "off",
        "OFF_HOURS_ADMIN: the UTC hours admin actions are expected in, HH:MM-HH:MM, or off."),
    CommandLineOption.of("--ext-authz-routes-file", "AUTH_EXT_AUTHZ_ROUTES_FILE", "",
        "Envoy Check: the routes file, which roles each path prefix and method needs (docs/envoy.md); read at start "
        + "(an error stops the server) and again when it changes; unset: any active token passes."),
    CommandLineOption.of("--ext-authz-routes-poll-interval", "AUTH_EXT_AUTHZ_ROUTES_POLL_INTERVAL", "PT2S",
        "How often the routes file is looked at for changes; at most PT1H."),
    CommandLineOption.of("--ext-authz-audience", "AUTH_EXT_AUTHZ_AUDIENCE", "",
        "Envoy Check: the audience tokens must carry; unset: AUTH_AUDIENCE."),
    CommandLineOption.of("--ext-authz-subject-header", "AUTH_EXT_AUTHZ_SUBJECT_HEADER", "x-auth-subject",
        "Envoy Check: the upstream request header set to the token's subject."),
    CommandLineOption.of("--ext-authz-username-header", "AUTH_EXT_AUTHZ_USERNAME_HEADER", "x-auth-username",
        "Envoy Check: the upstream request header set to the token's username."),
    CommandLineOption.of("--ext-authz-roles-header", "AUTH_EXT_AUTHZ_ROLES_HEADER", "x-auth-roles",
        "Envoy Check: the upstream request header set to the token's roles, comma-separated."),
    CommandLineOption.onOff("--ext-authz-remove-authorization", "AUTH_EXT_AUTHZ_REMOVE_AUTHORIZATION", false, "Envoy "
        + "Check: remove the authorization header from allowed requests, so the upstream never sees the token."),
    CommandLineOption.of("--ext-authz-realm", "AUTH_EXT_AUTHZ_REALM", "",
        "Envoy Check: the realm of the WWW-Authenticate challenges of denied requests; unset: AUTH_ISSUER."),
    CommandLineOption.of("--ext-authz-token-cookie", "AUTH_EXT_AUTHZ_TOKEN_COOKIE", "",
        "Envoy Check: the cookie the access token is taken from when the request has no authorization header (a "
        + "browser's HttpOnly cookie); unset: none.")));

  /**
   * The AUTH_ variables read outside the options: a secret never given as a flag, logback's
   * level, the launcher's JVM options. Any other AUTH_ variable that is no option's is warned of.
   */
  static final Set<String> READ_ELSEWHERE = Set.of("AUTH_KEY_ENCRYPTION_KEY", "AUTH_LOG_LEVEL", "AUTH_JAVA_OPTS");

  private final OptionValues values;
  private final java.util.function.Supplier<java.util.OptionalLong> machineMemoryBytes;

  /** The server's settings as {@code values} give them; each is read, and its type checked, by {@link #toConfig}. */
  ServeCommand(OptionValues values) {
    this(values, HashMemoryFit::machineMemoryBytes);
  }

  /** As {@link #ServeCommand(OptionValues)}, with the machine's memory from {@code machineMemoryBytes}. */
  ServeCommand(OptionValues values, java.util.function.Supplier<java.util.OptionalLong> machineMemoryBytes) {
    this.values = values;
    this.machineMemoryBytes = machineMemoryBytes;
  }

  /** Runs the server {@code config} describes until SIGTERM, then shuts it down gracefully. */
  static int serve(ServerConfig config) throws InterruptedException {
    DefaultHeapWarning.of(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments(),
        Runtime.getRuntime().maxMemory()).ifPresent(org.slf4j.LoggerFactory.getLogger(ServeCommand.class)::warn);
    AuthServer server = AuthServer.start(config);
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

  /**
   * The configuration the settings describe; reads every setting, so a value the server cannot
   * take is an {@link IllegalArgumentException} here ({@link UsageException} for a wrong type),
   * before anything starts.
   */
  ServerConfig toConfig() {
    // read by Main (JvmRelaunch) before the options are parsed; checked here like every other
    values.bool(JvmRelaunch.OPT_OUT_FLAG);
    ThrottleSettings throttle = new ThrottleSettings(values.integer("--throttle-after-failures"),
        values.duration("--throttle-max-wait"), values.integer("--lockout-after-failures"),
        values.integer("--ip-failure-limit"), values.duration("--login-account-wait"),
        values.integer("--login-account-queue"));
    TlsSettings tls = new TlsSettings(optionalPath("--tls-cert-file"), optionalPath("--tls-key-file"),
        optionalPath("--tls-client-ca-file"), values.bool("--allow-plaintext"));
    HttpSettings http = new HttpSettings(HttpSettings.parsePort("AUTH_HTTP_PORT", values.text("--http-port")),
        values.text("--http-bind-address").trim(),
        blankToEmpty(values.text("--public-base-url")).map(ServeCommand::url),
        values.duration("--jwks-max-age"), HttpSettings.parsePort("AUTH_ADMIN_PORT", values.text("--admin-port")),
        values.text("--admin-bind-address").trim(), values.integer("--http-threads"), values.integer("--http-queue"),
        values.duration("--http-request-timeout"));
    ExtAuthzSettings extAuthz = new ExtAuthzSettings(optionalPath("--ext-authz-routes-file"),
        values.duration("--ext-authz-routes-poll-interval"),
        blankToEmpty(values.text("--ext-authz-audience")).orElse(""),
        values.text("--ext-authz-subject-header"), values.text("--ext-authz-username-header"),
        values.text("--ext-authz-roles-header"), values.bool("--ext-authz-remove-authorization"),
        blankToEmpty(values.text("--ext-authz-realm")).orElse(""),
        blankToEmpty(values.text("--ext-authz-token-cookie")));
    HashParams hashParams = new HashParams(values.integer("--argon2-memory-kib"), values.integer("--argon2-iterations"),
        values.integer("--argon2-parallelism"));
    int hashesAtOnce = HashMemoryFit.hashesByCores();
    java.util.OptionalLong machine = machineMemoryBytes.get();
    if (machine.isPresent()) {
      HashMemoryFit.Plan plan = HashMemoryFit.plan(hashParams, hashesAtOnce, Runtime.getRuntime().maxMemory(),
          machine.getAsLong());
      hashesAtOnce = plan.hashesAtOnce();
      plan.info().ifPresent(org.slf4j.LoggerFactory.getLogger(ServeCommand.class)::info);
      plan.warning().ifPresent(org.slf4j.LoggerFactory.getLogger(ServeCommand.class)::warn);
    }
    ServerConfig.Builder builder = ServerConfig.builder(values.path("--data-dir"))
        .bindAddress(values.text("--bind-address"))
        .port(values.integer("--port"))
        .mongoUri(blankToEmpty(values.text("--mongodb-uri")))
        .database(values.text("--mongodb-database"))
        .issuer(values.text("--issuer"))
        .defaultAudience(values.text("--audience"))
        .allowedAudiences(Set.copyOf(commaList(values.text("--allowed-audiences"))))
        .clientId(values.text("--client-id"))
        .tokenTtl(values.duration("--token-ttl"))
        .clockSkew(values.duration("--clock-skew"))
        .bootstrapAdmin(blankToEmpty(values.text("--bootstrap-admin-username")),
            blankToEmpty(values.text("--bootstrap-admin-password")))
        .hashParams(hashParams)
        .hashesAtOnce(hashesAtOnce)
        .maxInboundMessageBytes(values.integer("--max-message-bytes"))
        .trustedProxies(commaList(values.text("--trusted-proxies")))
        .storeTimeout(values.duration("--store-timeout"))
        .refreshTokenTtl(values.duration("--refresh-token-ttl"))
        .sessionMaxLifetime(values.duration("--session-max-lifetime"))
        .revocationPollInterval(values.duration("--revocation-poll-interval"))
        .throttle(throttle)
        .tls(tls)
        .validateRequiresCaller(values.bool("--validate-require-caller"))
        .validateFailuresPerMinute(values.integer("--validate-failure-limit"))
        .validateFailureDelay(values.duration("--validate-failure-delay"))
        .refusalRollupMaxKeys(values.integer("--refusal-rollup-max-keys"))
        .summaryMaxGroups(values.integer("--summary-max-groups"))
        .auditRetention(values.durationOrOff("--audit-retention"))
        .auditSweepInterval(values.duration("--audit-sweep-interval"))
        .validationAudit(ValidationAuditMode.parse(values.text("--validation-audit")))
        .rollupFlushInterval(values.duration("--rollup-flush-interval"))
        .auditCheckpointInterval(values.duration("--audit-checkpoint-interval"))
        .review(reviewSettings())
        .embeddedStoreUriFile(values.bool("--embedded-store-uri-file"))
        .embeddedJournalInterval(values.duration("--embedded-journal-interval"))
        .streams(new StreamSettings(values.integer("--stream-max-per-caller"), values.integer("--stream-max-open"),
            values.duration("--stream-recheck-interval")))
        .analytics(new dev.authservice.server.usecase.AnalyticsSettings(values.integer("--analytics-max-per-caller"),
            values.integer("--analytics-max-at-once"), values.integer("--verify-max-checkpoints")))
        .http(http)
        .extAuthz(extAuthz);
    blankToEmpty(values.text("--instance-id")).ifPresent(builder::instanceId);
    // last: every other value is checked before the key-encryption key's file is read
    builder.keys(keySettings());
    builder.otel(otlpTraces(System.getenv()));
    return builder.build();
  }

  private KeySettings keySettings() {
    return new KeySettings(SigningAlgorithm.fromJwsName(values.text("--signing-algorithm").trim()),
        values.durationOrOff("--key-rotation-interval"),
        KeyEncryptionKeys.load(blankToEmpty(System.getenv("AUTH_KEY_ENCRYPTION_KEY")),
            optionalPath("--key-encryption-key-file")),
        values.bool("--insecure-dev-keys"), values.durationOrOff("--audit-key-rotation-interval"),
        values.bool("--encrypt-plaintext-keys"), values.duration("--key-publication-lead"));
  }

  private ReviewSettings reviewSettings() {
    String scheduleText = values.text("--review-schedule").trim();
    Optional<String> schedule = scheduleText.isEmpty() || scheduleText.equalsIgnoreCase("off")
        ? Optional.empty() : Optional.of(scheduleText);
    schedule.ifPresent(dev.authservice.server.review.ReviewSchedule::parse);
    return new ReviewSettings(schedule,
        ReviewSettings.threshold("AUTH_REVIEW_FAILED_LOGIN_BURST", values.text("--review-failed-login-burst")),
        ReviewSettings.threshold("AUTH_REVIEW_CREDENTIAL_STUFFING", values.text("--review-credential-stuffing")),
        ReviewSettings.threshold("AUTH_REVIEW_SUCCESS_AFTER_FAILURES", values.text("--review-success-after-failures")),
        ReviewSettings.history("AUTH_REVIEW_NEW_ADDRESS", values.text("--review-new-address")),
        ReviewSettings.threshold("AUTH_REVIEW_TOKEN_FORGERY", values.text("--review-token-forgery")),
        ReviewSettings.onOff("AUTH_REVIEW_REVOKED_TOKEN_USE", values.text("--review-revoked-token-use")),
        ReviewSettings.hours("AUTH_REVIEW_ADMIN_HOURS", values.text("--review-admin-hours")),
        values.integer("--review-max-events"));
  }

  /** A file the setting names, if it is set (blank: unset). */
  private Optional<Path> optionalPath(String flag) {
    return blankToEmpty(values.text(flag)).isEmpty() ? Optional.empty() : Optional.of(values.path(flag));
  }

  /**
   * Traces are exported only when the standard variables ask for OTLP: OTEL_TRACES_EXPORTER names
   * otlp, or an OTLP endpoint is set (and OTEL_TRACES_EXPORTER is not none). Then every OTEL_*
   * variable is handed on as the SDK's property of the same name ({@code OTEL_EXPORTER_OTLP_ENDPOINT}
   * is {@code otel.exporter.otlp.endpoint}), so the configuration the server runs with is the one
   * in {@link ServerConfig#otel}, whoever builds it; empty: no export.
   */
  static java.util.Map<String, String> otlpTraces(java.util.Map<String, String> env) {
    String exporter = env.getOrDefault("OTEL_TRACES_EXPORTER", "").trim().toLowerCase(java.util.Locale.ROOT);
    boolean endpoint = !env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "").isBlank()
        || !env.getOrDefault("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").isBlank();
    boolean on = Arrays.asList(exporter.split(",")).contains("otlp") || (endpoint && exporter.isEmpty());
    if (!on) {
      return java.util.Map.of();
    }
    java.util.Map<String, String> properties = new java.util.TreeMap<>();
    env.forEach((name, value) -> {
      if (name.startsWith("OTEL_") && !value.isBlank()) {
        properties.put(name.toLowerCase(java.util.Locale.ROOT).replace('_', '.'), value.trim());
      }
    });
    properties.putIfAbsent("otel.traces.exporter", "otlp");
    return properties;
  }

  private static java.net.URI url(String value) {
    try {
      return new java.net.URI(value);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("AUTH_PUBLIC_BASE_URL is not a URL: '" + value + "'");
    }
  }

  private static Optional<String> blankToEmpty(String value) {
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  private static List<String> commaList(String value) {
    return value == null ? List.of()
        : Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
