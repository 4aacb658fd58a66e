package dev.authservice.server;

import dev.authservice.server.usecase.StreamSettings;
import dev.authservice.server.password.HashParams;
import dev.authservice.server.review.ReviewSettings;
import dev.authservice.server.throttle.ThrottleSettings;
import dev.authservice.server.keys.SigningAlgorithm;
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

  @Option(names = "--http-port", defaultValue = "${env:AUTH_HTTP_PORT:-8080}",
      description = "Port of the public HTTP listener serving the JWK Set and the issuer metadata (/.well-known/...);"
          + " 0 for any free one, off for none (AUTH_HTTP_PORT). Default: ${DEFAULT-VALUE}")
  String httpPort;

  @Option(names = "--http-bind-address", defaultValue = "${env:AUTH_HTTP_BIND_ADDRESS:-127.0.0.1}",
      description = "Address of the public HTTP listener; plaintext only on loopback, as for gRPC"
          + " (AUTH_HTTP_BIND_ADDRESS). Default: ${DEFAULT-VALUE}")
  String httpBindAddress;

  @Option(names = "--public-base-url", defaultValue = "${env:AUTH_PUBLIC_BASE_URL:-}",
      description = "The URL clients reach the public HTTP listener by, such as https://auth.example.com: jwks_uri"
          + " is built on it; unset: derived from the bind address and port (AUTH_PUBLIC_BASE_URL).")
  String publicBaseUrl;

  @Option(names = "--jwks-max-age", defaultValue = "${env:AUTH_JWKS_MAX_AGE:-PT1M}",
      converter = IsoDurationConverter.class,
      description = "Cache-Control max-age of the JWK Set and the metadata, at most PT1H; PT0S: no-cache"
          + " (AUTH_JWKS_MAX_AGE). Default: ${DEFAULT-VALUE}")
  Duration jwksMaxAge;

  @Option(names = "--admin-port", defaultValue = "${env:AUTH_ADMIN_PORT:-9464}",
      description = "Port of the admin HTTP listener serving /metrics, /health/live and /health/ready; 0 for any free"
          + " one, off for none (AUTH_ADMIN_PORT). Default: ${DEFAULT-VALUE}")
  String adminPort;

  @Option(names = "--admin-bind-address", defaultValue = "${env:AUTH_ADMIN_BIND_ADDRESS:-127.0.0.1}",
      description = "Address of the admin HTTP listener (plaintext, no authentication: expose it to the monitoring"
          + " system only) (AUTH_ADMIN_BIND_ADDRESS). Default: ${DEFAULT-VALUE}")
  String adminBindAddress;

  @Option(names = "--http-threads", defaultValue = "${env:AUTH_HTTP_THREADS:-4}",
      description = "Threads of each HTTP listener (AUTH_HTTP_THREADS). Default: ${DEFAULT-VALUE}")
  int httpThreads;

  @Option(names = "--http-queue", defaultValue = "${env:AUTH_HTTP_QUEUE:-64}",
      description = "Requests each HTTP listener holds waiting for a thread; beyond, new connections are closed"
          + " (AUTH_HTTP_QUEUE). Default: ${DEFAULT-VALUE}")
  int httpQueue;

  @Option(names = "--http-request-timeout", defaultValue = "${env:AUTH_HTTP_REQUEST_TIMEOUT:-PT10S}",
      converter = IsoDurationConverter.class,
      description = "Longest an HTTP exchange may take, from the request's first byte to the answer's last; then the"
          + " connection is closed; at most PT1M (AUTH_HTTP_REQUEST_TIMEOUT). Default: ${DEFAULT-VALUE}")
  Duration httpRequestTimeout;

  @Option(names = "--data-dir", defaultValue = "${env:AUTH_DATA_DIR:-data}",
      description = "Directory for the embedded store and local state (AUTH_DATA_DIR). Default: ${DEFAULT-VALUE}")
  Path dataDir;

  @Option(names = "--mongodb-uri", defaultValue = "${env:MONGODB_URI:-}",
      description = "MongoDB connection string; unset means the embedded store (MONGODB_URI).")
  String mongoUri;

  @Option(names = "--embedded-store-uri-file", defaultValue = "${env:AUTH_EMBEDDED_STORE_URI_FILE:-false}",
      arity = "0..1",
      description = "Write the embedded store's connection string, with its per-start credential, to"
          + " embedded-store.uri in the data directory (0600) for tools run as the server's OS user, such as the"
          + " benchmark; removed at shutdown (AUTH_EMBEDDED_STORE_URI_FILE). Default: ${DEFAULT-VALUE}")
  boolean embeddedStoreUriFile;

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

  @Option(names = "--store-timeout", defaultValue = "${env:AUTH_STORE_TIMEOUT:-PT1.5S}",
      converter = IsoDurationConverter.class,
      description = "How long to wait for MongoDB before failing a call, ISO-8601 (AUTH_STORE_TIMEOUT). Default: ${DEFAULT-VALUE}")
  Duration storeTimeout;

  @Option(names = "--signing-algorithm", defaultValue = "${env:AUTH_SIGNING_ALGORITHM:-RS256}",
      description = "Algorithm of new signing keys: RS256, ES256 or EdDSA (AUTH_SIGNING_ALGORITHM). Default: ${DEFAULT-VALUE}")
  String signingAlgorithm;

  @Option(names = "--key-rotation-interval", defaultValue = "${env:AUTH_KEY_ROTATION_INTERVAL:-P30D}",
      description = "Rotate the signing key when it is this old, ISO-8601; PT0S: only on demand"
          + " (AUTH_KEY_ROTATION_INTERVAL). Default: ${DEFAULT-VALUE}")
  String keyRotationInterval;

  @Option(names = "--key-publication-lead", defaultValue = "${env:AUTH_KEY_PUBLICATION_LEAD:-PT1H}",
      converter = IsoDurationConverter.class,
      description = "A scheduled rotation publishes the next signing key in the JWK Set this long before it signs;"
          + " at least AUTH_JWKS_MAX_AGE plus PT10S, at most half the rotation interval (AUTH_KEY_PUBLICATION_LEAD)."
          + " Default: ${DEFAULT-VALUE}")
  Duration keyPublicationLead;

  @Option(names = "--key-encryption-key-file", defaultValue = "${env:AUTH_KEY_ENCRYPTION_KEY_FILE:-}",
      description = "File holding the base64 key-encryption key (AUTH_KEY_ENCRYPTION_KEY_FILE);"
          + " or set AUTH_KEY_ENCRYPTION_KEY itself in the environment.")
  String keyEncryptionKeyFile;

  // read by Main (JvmRelaunch) before any option is parsed; declared so that the flag is accepted and listed
  @Option(names = JvmRelaunch.OPT_OUT_FLAG, defaultValue = "${env:AUTH_RELAUNCH:-true}", arity = "0..1",
      description = "Started without a heap option (plain java -jar) on a machine where the JVM would take a heap far"
          + " above what the server needs: run the server in a child JVM with the launcher's options (bounded heap,"
          + " serial collector); false: run in this JVM as started, for whoever sizes the JVM themselves"
          + " (AUTH_RELAUNCH). Default: ${DEFAULT-VALUE}")
  boolean relaunch;

  @Option(names = "--insecure-dev-keys", defaultValue = "${env:AUTH_INSECURE_DEV_KEYS:-false}", arity = "0..1",
      description = "Allow signing keys stored unencrypted, for development only (AUTH_INSECURE_DEV_KEYS).")
  boolean insecureDevKeys;

  @Option(names = "--audit-key-rotation-interval", defaultValue = "${env:AUTH_AUDIT_KEY_ROTATION_INTERVAL:-P90D}",
      description = "Rotate the audit checkpoint signing key when it is this old, ISO-8601, at least P1D (audit keys"
          + " are kept forever); 0 or PT0S: only on demand (AUTH_AUDIT_KEY_ROTATION_INTERVAL). Default: ${DEFAULT-VALUE}")
  String auditKeyRotationInterval;

  @Option(names = "--encrypt-plaintext-keys", defaultValue = "${env:AUTH_ENCRYPT_PLAINTEXT_KEYS:-false}",
      arity = "0..1",
      description = "For one start: encrypt under the key-encryption key the private keys that a run with insecure"
          + " development keys left unencrypted, logging each kid; without it such keys stop the start"
          + " (AUTH_ENCRYPT_PLAINTEXT_KEYS). Default: ${DEFAULT-VALUE}")
  boolean encryptPlaintextKeys;

  @Option(names = "--refresh-token-ttl", defaultValue = "${env:AUTH_REFRESH_TOKEN_TTL:-P1D}",
      converter = IsoDurationConverter.class,
      description = "Refresh token lifetime, renewed by each refresh (AUTH_REFRESH_TOKEN_TTL). Default: ${DEFAULT-VALUE}")
  Duration refreshTokenTtl;

  @Option(names = "--session-max-lifetime", defaultValue = "${env:AUTH_SESSION_MAX_LIFETIME:-P30D}",
      converter = IsoDurationConverter.class,
      description = "How long refreshing can extend one login (AUTH_SESSION_MAX_LIFETIME). Default: ${DEFAULT-VALUE}")
  Duration sessionMaxLifetime;

  @Option(names = "--revocation-poll-interval", defaultValue = "${env:AUTH_REVOCATION_POLL_INTERVAL:-PT0.25S}",
      converter = IsoDurationConverter.class,
      description = "How often revocations made elsewhere are read from the store (AUTH_REVOCATION_POLL_INTERVAL). Default: ${DEFAULT-VALUE}")
  Duration revocationPollInterval;

  @Option(names = "--throttle-after-failures", defaultValue = "${env:AUTH_THROTTLE_AFTER_FAILURES:-5}",
      description = "Consecutive failed logins before waits begin (AUTH_THROTTLE_AFTER_FAILURES). Default: ${DEFAULT-VALUE}")
  int throttleAfterFailures;

  @Option(names = "--throttle-max-wait", defaultValue = "${env:AUTH_THROTTLE_MAX_WAIT:-PT15M}",
      converter = IsoDurationConverter.class,
      description = "Longest wait imposed after failures (AUTH_THROTTLE_MAX_WAIT). Default: ${DEFAULT-VALUE}")
  Duration throttleMaxWait;

  @Option(names = "--lockout-after-failures", defaultValue = "${env:AUTH_LOCKOUT_AFTER_FAILURES:-0}",
      description = "Failures that lock an account until an admin unlocks it; 0 never (AUTH_LOCKOUT_AFTER_FAILURES). Default: ${DEFAULT-VALUE}")
  int lockoutAfterFailures;

  @Option(names = "--ip-failure-limit", defaultValue = "${env:AUTH_IP_FAILURE_LIMIT:-20}",
      description = "Login attempts per source address (IPv6: per /64) per minute that did not succeed, shared by"
          + " all instances; 0 turns it off (AUTH_IP_FAILURE_LIMIT). Default: ${DEFAULT-VALUE}")
  int ipFailureLimit;

  @Option(names = "--login-account-wait", defaultValue = "${env:AUTH_LOGIN_ACCOUNT_WAIT:-PT5S}",
      converter = IsoDurationConverter.class,
      description = "How long a login waits while another login of the same account is being checked on this"
          + " instance; then it is refused (AUTH_LOGIN_ACCOUNT_WAIT). Default: ${DEFAULT-VALUE}")
  Duration loginAccountWait;

  @Option(names = "--login-account-queue", defaultValue = "${env:AUTH_LOGIN_ACCOUNT_QUEUE:-32}",
      description = "How many logins of one account may wait so on this instance; more are refused at once"
          + " (AUTH_LOGIN_ACCOUNT_QUEUE). Default: ${DEFAULT-VALUE}")
  int loginAccountQueue;

  @Option(names = "--tls-cert-file", defaultValue = "${env:AUTH_TLS_CERT_FILE:-}",
      description = "PEM certificate chain; with --tls-key-file turns TLS on (AUTH_TLS_CERT_FILE).")
  String tlsCertFile;

  @Option(names = "--tls-key-file", defaultValue = "${env:AUTH_TLS_KEY_FILE:-}",
      description = "PEM PKCS#8 private key of the certificate (AUTH_TLS_KEY_FILE).")
  String tlsKeyFile;

  @Option(names = "--tls-client-ca-file", defaultValue = "${env:AUTH_TLS_CLIENT_CA_FILE:-}",
      description = "PEM CA certificates; callers must present a certificate they signed (AUTH_TLS_CLIENT_CA_FILE).")
  String tlsClientCaFile;

  @Option(names = "--allow-plaintext", defaultValue = "${env:AUTH_ALLOW_PLAINTEXT:-false}", arity = "0..1",
      description = "Serve without TLS on a non-loopback address (AUTH_ALLOW_PLAINTEXT); logs a warning.")
  boolean allowPlaintext;

  @Option(names = "--validate-require-caller", defaultValue = "${env:AUTH_VALIDATE_REQUIRE_CALLER:-false}", arity = "0..1",
      description = "Validate needs a client certificate (mutual TLS) or a bearer token with role validator or"
          + " admin (AUTH_VALIDATE_REQUIRE_CALLER).")
  boolean validateRequireCaller;

  @Option(names = "--validate-failure-limit", defaultValue = "${env:AUTH_VALIDATE_FAILURE_LIMIT:-0}",
      description = "Inactive tokens one authenticated caller (client certificate or bearer token) may present per"
          + " minute before its answers about inactive tokens are slowed by --validate-failure-delay; valid"
          + " tokens are never slowed or refused; 0 turns it off (AUTH_VALIDATE_FAILURE_LIMIT). Default: ${DEFAULT-VALUE}")
  int validateFailureLimit;

  @Option(names = "--validate-failure-delay", defaultValue = "${env:AUTH_VALIDATE_FAILURE_DELAY:-PT1S}",
      converter = IsoDurationConverter.class,
      description = "How much later an answer about an inactive token comes once its caller passed"
          + " --validate-failure-limit (AUTH_VALIDATE_FAILURE_DELAY). Default: ${DEFAULT-VALUE}")
  Duration validateFailureDelay;

  @Option(names = "--refusal-rollup-max-keys", defaultValue = "${env:AUTH_REFUSAL_ROLLUP_MAX_KEYS:-1000}",
      description = "Groups of refused calls (type, reason, method, caller) counted per minute before further"
          + " ones are counted without their caller (AUTH_REFUSAL_ROLLUP_MAX_KEYS). Default: ${DEFAULT-VALUE}")
  int refusalRollupMaxKeys;

  @Option(names = "--summary-max-groups", defaultValue = "${env:AUTH_SUMMARY_MAX_GROUPS:-10000}",
      description = "Rows SummarizeAudit holds for one call; past that, further groups are counted in each"
          + " bucket's row marked other (AUTH_SUMMARY_MAX_GROUPS). Default: ${DEFAULT-VALUE}")
  int summaryMaxGroups;

  @Option(names = "--review-max-events", defaultValue = "${env:AUTH_REVIEW_MAX_EVENTS:-200000}",
      description = "Events one review rule holds in memory; past that, the later events of the window are not"
          + " examined and a warning is logged (AUTH_REVIEW_MAX_EVENTS). Default: ${DEFAULT-VALUE}")
  int reviewMaxEvents;

  @Option(names = "--audit-retention", defaultValue = "${env:AUTH_AUDIT_RETENTION:-P0D}",
      description = "Keep audit events this long, ISO-8601 (e.g. P90D); P0D keeps them forever (AUTH_AUDIT_RETENTION). Default: ${DEFAULT-VALUE}")
  String auditRetention;

  @Option(names = "--audit-sweep-interval", defaultValue = "${env:AUTH_AUDIT_SWEEP_INTERVAL:-PT5M}",
      converter = IsoDurationConverter.class,
      description = "How often events past the retention are purged, with a signed purge checkpoint"
          + " (AUTH_AUDIT_SWEEP_INTERVAL). Default: ${DEFAULT-VALUE}")
  Duration auditSweepInterval;

  @Option(names = "--validation-audit", defaultValue = "${env:AUTH_VALIDATION_AUDIT:-every}",
      description = "Audit of successful validations: every (one event each) or rollup (counted per token,"
          + " caller and minute) (AUTH_VALIDATION_AUDIT). Default: ${DEFAULT-VALUE}")
  String validationAudit;

  @Option(names = "--rollup-flush-interval", defaultValue = "${env:AUTH_ROLLUP_FLUSH_INTERVAL:-PT5S}",
      converter = IsoDurationConverter.class,
      description = "How often rollup counts are written; a crash loses at most this window of counts"
          + " (AUTH_ROLLUP_FLUSH_INTERVAL). Default: ${DEFAULT-VALUE}")
  Duration rollupFlushInterval;

  @Option(names = "--audit-checkpoint-interval", defaultValue = "${env:AUTH_AUDIT_CHECKPOINT_INTERVAL:-PT10S}",
      converter = IsoDurationConverter.class,
      description = "How often a signed audit checkpoint is written when there is something new"
          + " (AUTH_AUDIT_CHECKPOINT_INTERVAL). Default: ${DEFAULT-VALUE}")
  Duration auditCheckpointInterval;

  @Option(names = "--embedded-journal-interval", defaultValue = "${env:AUTH_EMBEDDED_JOURNAL_INTERVAL:-PT1S}",
      converter = IsoDurationConverter.class,
      description = "On the embedded store: how often it commits its file, after which the audit journal that made"
          + " events durable meanwhile is deleted; a restart after a crash replays at most about this much;"
          + " PT0.01S to PT1M (AUTH_EMBEDDED_JOURNAL_INTERVAL). Default: ${DEFAULT-VALUE}")
  Duration embeddedJournalInterval;

  @Option(names = "--stream-max-per-caller", defaultValue = "${env:AUTH_STREAM_MAX_PER_CALLER:-4}",
      description = "StreamAudit calls one caller may have open on this instance; more are RESOURCE_EXHAUSTED"
          + " (AUTH_STREAM_MAX_PER_CALLER). Default: ${DEFAULT-VALUE}")
  int streamMaxPerCaller;

  @Option(names = "--stream-max-open", defaultValue = "${env:AUTH_STREAM_MAX_OPEN:-64}",
      description = "StreamAudit calls this instance serves at once, all callers together"
          + " (AUTH_STREAM_MAX_OPEN). Default: ${DEFAULT-VALUE}")
  int streamMaxOpen;

  @Option(names = "--stream-recheck-interval", defaultValue = "${env:AUTH_STREAM_RECHECK_INTERVAL:-PT2S}",
      converter = IsoDurationConverter.class,
      description = "How often an open StreamAudit call checks its caller's token, account and role while it waits;"
          + " it also checks before each batch it sends; at most PT1M (AUTH_STREAM_RECHECK_INTERVAL). Default: ${DEFAULT-VALUE}")
  Duration streamRecheckInterval;

  @Option(names = "--review-schedule", defaultValue = "${env:AUTH_REVIEW_SCHEDULE:-0 2 * * *}",
      description = "When to review the previous UTC day for suspicious activity: a five-field cron expression in UTC,"
          + " or off (AUTH_REVIEW_SCHEDULE). Default: ${DEFAULT-VALUE}")
  String reviewSchedule;

  @Option(names = "--review-failed-login-burst", defaultValue = "${env:AUTH_REVIEW_FAILED_LOGIN_BURST:-10/PT5M}",
      description = "FAILED_LOGIN_BURST: failed logins of one username within a time, or off"
          + " (AUTH_REVIEW_FAILED_LOGIN_BURST). Default: ${DEFAULT-VALUE}")
  String reviewFailedLoginBurst;

  @Option(names = "--review-credential-stuffing", defaultValue = "${env:AUTH_REVIEW_CREDENTIAL_STUFFING:-5/PT5M}",
      description = "CREDENTIAL_STUFFING: distinct usernames failing from one address within a time, or off"
          + " (AUTH_REVIEW_CREDENTIAL_STUFFING). Default: ${DEFAULT-VALUE}")
  String reviewCredentialStuffing;

  @Option(names = "--review-success-after-failures", defaultValue = "${env:AUTH_REVIEW_SUCCESS_AFTER_FAILURES:-5/PT10M}",
      description = "SUCCESS_AFTER_FAILURES: failures before a successful login within a time, or off"
          + " (AUTH_REVIEW_SUCCESS_AFTER_FAILURES). Default: ${DEFAULT-VALUE}")
  String reviewSuccessAfterFailures;

  @Option(names = "--review-new-address", defaultValue = "${env:AUTH_REVIEW_NEW_ADDRESS:-20/5}",
      description = "NEW_ADDRESS: previous successful logins compared / the fewest a user needs, or off"
          + " (AUTH_REVIEW_NEW_ADDRESS). Default: ${DEFAULT-VALUE}")
  String reviewNewAddress;

  @Option(names = "--review-token-forgery", defaultValue = "${env:AUTH_REVIEW_TOKEN_FORGERY:-3/PT5M}",
      description = "TOKEN_FORGERY: validations failing on signature, algorithm or key from one address within a"
          + " time, or off (AUTH_REVIEW_TOKEN_FORGERY). Default: ${DEFAULT-VALUE}")
  String reviewTokenForgery;

  @Option(names = "--review-revoked-token-use", defaultValue = "${env:AUTH_REVIEW_REVOKED_TOKEN_USE:-on}",
      description = "REVOKED_TOKEN_USE: on or off (AUTH_REVIEW_REVOKED_TOKEN_USE). Default: ${DEFAULT-VALUE}")
  String reviewRevokedTokenUse;

  @Option(names = "--review-admin-hours", defaultValue = "${env:AUTH_REVIEW_ADMIN_HOURS:-off}",
      description = "OFF_HOURS_ADMIN: the UTC hours admin actions are expected in, HH:MM-HH:MM, or off"
          + " (AUTH_REVIEW_ADMIN_HOURS). Default: ${DEFAULT-VALUE}")
  String reviewAdminHours;

  @Option(names = "--ext-authz-routes-file", defaultValue = "${env:AUTH_EXT_AUTHZ_ROUTES_FILE:-}",
      description = "Envoy Check: the routes file, which roles each path prefix and method needs (docs/envoy.md);"
          + " read at start (an error stops the server) and again when it changes; unset: any active token"
          + " passes (AUTH_EXT_AUTHZ_ROUTES_FILE).")
  String extAuthzRoutesFile;

  @Option(names = "--ext-authz-routes-poll-interval", defaultValue = "${env:AUTH_EXT_AUTHZ_ROUTES_POLL_INTERVAL:-PT2S}",
      converter = IsoDurationConverter.class,
      description = "How often the routes file is looked at for changes; at most PT1H"
          + " (AUTH_EXT_AUTHZ_ROUTES_POLL_INTERVAL). Default: ${DEFAULT-VALUE}")
  Duration extAuthzRoutesPollInterval;

  @Option(names = "--ext-authz-audience", defaultValue = "${env:AUTH_EXT_AUTHZ_AUDIENCE:-}",
      description = "Envoy Check: the audience tokens must carry; unset: AUTH_AUDIENCE (AUTH_EXT_AUTHZ_AUDIENCE).")
  String extAuthzAudience;

  @Option(names = "--ext-authz-subject-header", defaultValue = "${env:AUTH_EXT_AUTHZ_SUBJECT_HEADER:-x-auth-subject}",
      description = "Envoy Check: the upstream request header set to the token's subject"
          + " (AUTH_EXT_AUTHZ_SUBJECT_HEADER). Default: ${DEFAULT-VALUE}")
  String extAuthzSubjectHeader;

  @Option(names = "--ext-authz-username-header", defaultValue = "${env:AUTH_EXT_AUTHZ_USERNAME_HEADER:-x-auth-username}",
      description = "Envoy Check: the upstream request header set to the token's username"
          + " (AUTH_EXT_AUTHZ_USERNAME_HEADER). Default: ${DEFAULT-VALUE}")
  String extAuthzUsernameHeader;

  @Option(names = "--ext-authz-roles-header", defaultValue = "${env:AUTH_EXT_AUTHZ_ROLES_HEADER:-x-auth-roles}",
      description = "Envoy Check: the upstream request header set to the token's roles, comma-separated"
          + " (AUTH_EXT_AUTHZ_ROLES_HEADER). Default: ${DEFAULT-VALUE}")
  String extAuthzRolesHeader;

  @Option(names = "--ext-authz-remove-authorization", defaultValue = "${env:AUTH_EXT_AUTHZ_REMOVE_AUTHORIZATION:-false}",
      arity = "0..1",
      description = "Envoy Check: remove the authorization header from allowed requests, so the upstream never"
          + " sees the token (AUTH_EXT_AUTHZ_REMOVE_AUTHORIZATION). Default: ${DEFAULT-VALUE}")
  boolean extAuthzRemoveAuthorization;

  @Option(names = "--ext-authz-realm", defaultValue = "${env:AUTH_EXT_AUTHZ_REALM:-}",
      description = "Envoy Check: the realm of the WWW-Authenticate challenges of denied requests; unset:"
          + " AUTH_ISSUER (AUTH_EXT_AUTHZ_REALM).")
  String extAuthzRealm;

  @Option(names = "--ext-authz-token-cookie", defaultValue = "${env:AUTH_EXT_AUTHZ_TOKEN_COOKIE:-}",
      description = "Envoy Check: the cookie the access token is taken from when the request has no authorization"
          + " header (a browser's HttpOnly cookie); unset: none (AUTH_EXT_AUTHZ_TOKEN_COOKIE).")
  String extAuthzTokenCookie;

  @Override
  public Integer call() throws Exception {
    DefaultHeapWarning.of(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments(),
        Runtime.getRuntime().maxMemory()).ifPresent(org.slf4j.LoggerFactory.getLogger(ServeCommand.class)::warn);
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
        .storeTimeout(storeTimeout)
        .keys(new KeySettings(SigningAlgorithm.fromJwsName(signingAlgorithm.trim()),
            optionalInterval(keyRotationInterval), KeyEncryptionKeys.load(
                blankToEmpty(System.getenv("AUTH_KEY_ENCRYPTION_KEY")), blankToEmpty(keyEncryptionKeyFile).map(Path::of)),
            insecureDevKeys, optionalInterval(auditKeyRotationInterval), encryptPlaintextKeys, keyPublicationLead))
        .refreshTokenTtl(refreshTokenTtl)
        .sessionMaxLifetime(sessionMaxLifetime)
        .revocationPollInterval(revocationPollInterval)
        .throttle(new ThrottleSettings(throttleAfterFailures, throttleMaxWait, lockoutAfterFailures, ipFailureLimit,
            loginAccountWait, loginAccountQueue))
        .tls(new TlsSettings(blankToEmpty(tlsCertFile).map(Path::of), blankToEmpty(tlsKeyFile).map(Path::of),
            blankToEmpty(tlsClientCaFile).map(Path::of), allowPlaintext))
        .validateRequiresCaller(validateRequireCaller)
        .validateFailuresPerMinute(validateFailureLimit)
        .validateFailureDelay(validateFailureDelay)
        .refusalRollupMaxKeys(refusalRollupMaxKeys)
        .summaryMaxGroups(summaryMaxGroups)
        .auditRetention(optionalInterval(auditRetention))
        .auditSweepInterval(auditSweepInterval)
        .validationAudit(ValidationAuditMode.parse(validationAudit))
        .rollupFlushInterval(rollupFlushInterval)
        .auditCheckpointInterval(auditCheckpointInterval)
        .review(reviewSettings())
        .embeddedStoreUriFile(embeddedStoreUriFile)
        .embeddedJournalInterval(embeddedJournalInterval)
        .streams(new StreamSettings(streamMaxPerCaller, streamMaxOpen, streamRecheckInterval))
        .http(new HttpSettings(HttpSettings.parsePort("AUTH_HTTP_PORT", httpPort), httpBindAddress.trim(),
            blankToEmpty(publicBaseUrl).map(ServeCommand::url), jwksMaxAge,
            HttpSettings.parsePort("AUTH_ADMIN_PORT", adminPort), adminBindAddress.trim(), httpThreads, httpQueue,
            httpRequestTimeout))
        .extAuthz(new ExtAuthzSettings(blankToEmpty(extAuthzRoutesFile).map(Path::of), extAuthzRoutesPollInterval,
            blankToEmpty(extAuthzAudience).orElse(""), extAuthzSubjectHeader, extAuthzUsernameHeader,
            extAuthzRolesHeader, extAuthzRemoveAuthorization, blankToEmpty(extAuthzRealm).orElse(""),
            blankToEmpty(extAuthzTokenCookie)));
    blankToEmpty(instanceId).ifPresent(builder::instanceId);
    builder.otel(otlpTraces(System.getenv()));
    return builder.build();
  }

  private ReviewSettings reviewSettings() {
    Optional<String> schedule = reviewSchedule.isBlank() || reviewSchedule.trim().equalsIgnoreCase("off")
        ? Optional.empty() : Optional.of(reviewSchedule.trim());
    schedule.ifPresent(dev.authservice.server.review.ReviewSchedule::parse);
    return new ReviewSettings(schedule,
        ReviewSettings.threshold("AUTH_REVIEW_FAILED_LOGIN_BURST", reviewFailedLoginBurst),
        ReviewSettings.threshold("AUTH_REVIEW_CREDENTIAL_STUFFING", reviewCredentialStuffing),
        ReviewSettings.threshold("AUTH_REVIEW_SUCCESS_AFTER_FAILURES", reviewSuccessAfterFailures),
        ReviewSettings.history("AUTH_REVIEW_NEW_ADDRESS", reviewNewAddress),
        ReviewSettings.threshold("AUTH_REVIEW_TOKEN_FORGERY", reviewTokenForgery),
        ReviewSettings.onOff("AUTH_REVIEW_REVOKED_TOKEN_USE", reviewRevokedTokenUse),
        ReviewSettings.hours("AUTH_REVIEW_ADMIN_HOURS", reviewAdminHours), reviewMaxEvents);
  }

  private static Optional<Duration> optionalInterval(String value) {
    Duration interval = new IsoDurationConverter().convert(value);
    return interval.isZero() || interval.isNegative() ? Optional.empty() : Optional.of(interval);
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
