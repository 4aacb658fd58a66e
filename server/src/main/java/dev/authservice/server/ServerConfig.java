package dev.authservice.server;

import dev.authservice.server.usecase.StreamSettings;
import dev.authservice.server.password.HashParams;
import dev.authservice.server.throttle.ThrottleSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Every setting of a server run, built once from flags and environment variables by
 * {@link ServeCommand} and handed down; nothing reads the environment after this.
 */
public record ServerConfig(
    String bindAddress,
    int port,
    Path dataDir,
    Optional<String> mongoUri,
    String database,
    String issuer,
    String defaultAudience,
    Set<String> allowedAudiences,
    String clientId,
    Duration tokenTtl,
    Duration clockSkew,
    Optional<String> bootstrapAdminUsername,
    Optional<String> bootstrapAdminPassword,
    HashParams hashParams,
    int hashesAtOnce,
    int maxInboundMessageBytes,
    List<String> trustedProxies,
    String instanceId,
    Duration storeTimeout,
    KeySettings keys,
    Duration refreshTokenTtl,
    Duration sessionMaxLifetime,
    Duration revocationPollInterval,
    ThrottleSettings throttle,
    TlsSettings tls,
    boolean validateRequiresCaller,
    int validateFailuresPerMinute,
    Duration validateFailureDelay,
    int refusalRollupMaxKeys,
    int summaryMaxGroups,
    Optional<Duration> auditRetention,
    Duration auditSweepInterval,
    ValidationAuditMode validationAudit,
    Duration rollupFlushInterval,
    Duration auditCheckpointInterval,
    dev.authservice.server.review.ReviewSettings review,
    boolean embeddedStoreUriFile,
    Duration embeddedJournalInterval,
    StreamSettings streams,
    dev.authservice.server.usecase.AnalyticsSettings analytics,
    HttpSettings http,
    java.util.Map<String, String> otel,
    ExtAuthzSettings extAuthz) {

  public ServerConfig {
    Objects.requireNonNull(bindAddress);
    Objects.requireNonNull(dataDir);
    Objects.requireNonNull(issuer);
    Objects.requireNonNull(defaultAudience);
    Objects.requireNonNull(streams);
    Objects.requireNonNull(analytics);
    Objects.requireNonNull(http);
    otel = java.util.Map.copyOf(otel);
    Objects.requireNonNull(extAuthz);
    extAuthz.checkHeaders(issuer);
    allowedAudiences = Set.copyOf(allowedAudiences);
    trustedProxies = List.copyOf(trustedProxies);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
    }
    if (tokenTtl.isNegative() || tokenTtl.isZero()) {
      throw new IllegalArgumentException("token TTL must be positive, got " + tokenTtl);
    }
    if (clockSkew.isNegative()) {
      throw new IllegalArgumentException("clock skew must not be negative, got " + clockSkew);
    }
    if (auditCheckpointInterval.isNegative() || auditCheckpointInterval.isZero()) {
      throw new IllegalArgumentException("the audit checkpoint interval must be positive, got " + auditCheckpointInterval);
    }
    if (embeddedJournalInterval.compareTo(Duration.ofMillis(10)) < 0
        || embeddedJournalInterval.compareTo(Duration.ofMinutes(1)) > 0) {
      // the journal holds the events of about one interval, and a start replays them
      throw new IllegalArgumentException("AUTH_EMBEDDED_JOURNAL_INTERVAL must be between PT0.01S and PT1M, got "
          + embeddedJournalInterval);
    }
    if (validateFailuresPerMinute < 0 || validateFailureDelay.isNegative()) {
      throw new IllegalArgumentException("AUTH_VALIDATE_FAILURE_LIMIT and AUTH_VALIDATE_FAILURE_DELAY must not be negative");
    }
    if (rollupFlushInterval.isNegative() || rollupFlushInterval.isZero()
        || rollupFlushInterval.compareTo(Duration.ofMinutes(1)) > 0) {
      // counted events are timed at their first occurrence: written later than a stream's late-event
      // allowance (two minutes, the counting minute included), readers would pass them by
      throw new IllegalArgumentException("AUTH_ROLLUP_FLUSH_INTERVAL must be positive and at most PT1M, got "
          + rollupFlushInterval);
    }
    if (summaryMaxGroups < 1) {
      throw new IllegalArgumentException("AUTH_SUMMARY_MAX_GROUPS must be at least 1, got " + summaryMaxGroups);
    }
    if (refusalRollupMaxKeys < 1) {
      throw new IllegalArgumentException("AUTH_REFUSAL_ROLLUP_MAX_KEYS must be at least 1, got " + refusalRollupMaxKeys);
    }
    checkJwksCaching(http, keys);
    if (bootstrapAdminUsername.isPresent() != bootstrapAdminPassword.isPresent()) {
      throw new IllegalArgumentException(
          "set both AUTH_BOOTSTRAP_ADMIN_USERNAME and AUTH_BOOTSTRAP_ADMIN_PASSWORD, or neither");
    }
  }

  /** A builder holding the defaults: loopback, an ephemeral port, the embedded store in {@code dataDir}. */
  public static Builder builder(Path dataDir) {
    return new Builder(dataDir);
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder(dataDir);
    b.bindAddress = bindAddress;
    b.port = port;
    b.mongoUri = mongoUri;
    b.database = database;
    b.issuer = issuer;
    b.defaultAudience = defaultAudience;
    b.allowedAudiences = allowedAudiences;
    b.clientId = clientId;
    b.tokenTtl = tokenTtl;
    b.clockSkew = clockSkew;
    b.bootstrapAdminUsername = bootstrapAdminUsername;
    b.bootstrapAdminPassword = bootstrapAdminPassword;
    b.hashParams = hashParams;
    b.hashesAtOnce = hashesAtOnce;
    b.maxInboundMessageBytes = maxInboundMessageBytes;
    b.trustedProxies = trustedProxies;
    b.instanceId = instanceId;
    b.storeTimeout = storeTimeout;
    b.keys = keys;
    b.refreshTokenTtl = refreshTokenTtl;
    b.sessionMaxLifetime = sessionMaxLifetime;
    b.revocationPollInterval = revocationPollInterval;
    b.throttle = throttle;
    b.tls = tls;
    b.validateRequiresCaller = validateRequiresCaller;
    b.validateFailuresPerMinute = validateFailuresPerMinute;
    b.validateFailureDelay = validateFailureDelay;
    b.refusalRollupMaxKeys = refusalRollupMaxKeys;
    b.summaryMaxGroups = summaryMaxGroups;
    b.auditRetention = auditRetention;
    b.auditSweepInterval = auditSweepInterval;
    b.validationAudit = validationAudit;
    b.rollupFlushInterval = rollupFlushInterval;
    b.auditCheckpointInterval = auditCheckpointInterval;
    b.review = review;
    b.embeddedStoreUriFile = embeddedStoreUriFile;
    b.embeddedJournalInterval = embeddedJournalInterval;
    b.streams = streams;
    b.analytics = analytics;
    b.http = http;
    b.otel = otel;
    b.extAuthz = extAuthz;
    return b;
  }

  /** Mutable builder; the record it builds is immutable. */
  public static final class Builder {
    private String bindAddress = "127.0.0.1";
    private int port = 0;
    private Path dataDir;
    private Optional<String> mongoUri = Optional.empty();
    private String database = "auth";
    private String issuer = "auth-service";
    private String defaultAudience = "auth-service";
    private Set<String> allowedAudiences = Set.of();
    private String clientId = "auth-service";
    private Duration tokenTtl = Duration.ofMinutes(15);
    private Duration clockSkew = Duration.ofSeconds(30);
    private Optional<String> bootstrapAdminUsername = Optional.empty();
    private Optional<String> bootstrapAdminPassword = Optional.empty();
    private HashParams hashParams = HashParams.OWASP_DEFAULT;
    /** One per core, at least two, unless the machine's memory holds fewer (ServeCommand, HashMemoryFit). */
    private int hashesAtOnce = HashMemoryFit.hashesByCores();
    private int maxInboundMessageBytes = 64 * 1024;
    private List<String> trustedProxies = List.of();
    /** Made by {@link #build} unless set: the host name is read only for a server that needs it. */
    private String instanceId;
    private Duration storeTimeout = Duration.ofMillis(1500);
    private KeySettings keys = KeySettings.DEV;
    private Duration refreshTokenTtl = Duration.ofDays(1);
    private Duration sessionMaxLifetime = Duration.ofDays(30);
    private Duration revocationPollInterval = Duration.ofMillis(250);
    private ThrottleSettings throttle = ThrottleSettings.DEFAULTS;
    private TlsSettings tls = TlsSettings.NONE;
    private boolean validateRequiresCaller = false;
    private int validateFailuresPerMinute = 0;
    private Duration validateFailureDelay = Duration.ofSeconds(1);
    private int refusalRollupMaxKeys = 1000;
    private int summaryMaxGroups = 10_000;
    private Optional<Duration> auditRetention = Optional.empty();
    private Duration auditSweepInterval = Duration.ofMinutes(5);
    private ValidationAuditMode validationAudit = ValidationAuditMode.EVERY;
    private Duration rollupFlushInterval = Duration.ofSeconds(5);
    private Duration auditCheckpointInterval = Duration.ofSeconds(10);
    private dev.authservice.server.review.ReviewSettings review = dev.authservice.server.review.ReviewSettings.DEFAULTS;
    private boolean embeddedStoreUriFile = false;
    private Duration embeddedJournalInterval = Duration.ofSeconds(1);
    private StreamSettings streams = StreamSettings.DEFAULTS;
    private dev.authservice.server.usecase.AnalyticsSettings analytics =
        dev.authservice.server.usecase.AnalyticsSettings.DEFAULTS;
    private HttpSettings http = HttpSettings.OFF;
    private java.util.Map<String, String> otel = java.util.Map.of();
    private ExtAuthzSettings extAuthz = ExtAuthzSettings.DEFAULTS;

    private Builder(Path dataDir) {
      this.dataDir = dataDir;
    }

    public Builder bindAddress(String v) { bindAddress = v; return this; }
    public Builder port(int v) { port = v; return this; }
    public Builder dataDir(Path v) { dataDir = v; return this; }
    public Builder mongoUri(Optional<String> v) { mongoUri = v; return this; }
    public Builder database(String v) { database = v; return this; }
    public Builder issuer(String v) { issuer = v; return this; }
    public Builder defaultAudience(String v) { defaultAudience = v; return this; }
    public Builder allowedAudiences(Set<String> v) { allowedAudiences = v; return this; }
    public Builder clientId(String v) { clientId = v; return this; }
    public Builder tokenTtl(Duration v) { tokenTtl = v; return this; }
    public Builder clockSkew(Duration v) { clockSkew = v; return this; }
    public Builder hashParams(HashParams v) { hashParams = v; return this; }
    public Builder hashesAtOnce(int v) { hashesAtOnce = v; return this; }
    public Builder maxInboundMessageBytes(int v) { maxInboundMessageBytes = v; return this; }
    public Builder trustedProxies(List<String> v) { trustedProxies = v; return this; }
    public Builder instanceId(String v) { instanceId = v; return this; }
    public Builder storeTimeout(Duration v) { storeTimeout = v; return this; }
    public Builder keys(KeySettings v) { keys = v; return this; }
    public Builder refreshTokenTtl(Duration v) { refreshTokenTtl = v; return this; }
    public Builder sessionMaxLifetime(Duration v) { sessionMaxLifetime = v; return this; }
    public Builder revocationPollInterval(Duration v) { revocationPollInterval = v; return this; }
    public Builder throttle(ThrottleSettings v) { throttle = v; return this; }
    public Builder tls(TlsSettings v) { tls = v; return this; }
    public Builder validateRequiresCaller(boolean v) { validateRequiresCaller = v; return this; }
    public Builder validateFailuresPerMinute(int v) { validateFailuresPerMinute = v; return this; }
    public Builder validateFailureDelay(Duration v) { validateFailureDelay = v; return this; }
    public Builder refusalRollupMaxKeys(int v) { refusalRollupMaxKeys = v; return this; }
    public Builder summaryMaxGroups(int v) { summaryMaxGroups = v; return this; }
    public Builder auditRetention(Optional<Duration> v) { auditRetention = v; return this; }
    public Builder auditSweepInterval(Duration v) { auditSweepInterval = v; return this; }
    public Builder validationAudit(ValidationAuditMode v) { validationAudit = v; return this; }
    public Builder rollupFlushInterval(Duration v) { rollupFlushInterval = v; return this; }
    public Builder auditCheckpointInterval(Duration v) { auditCheckpointInterval = v; return this; }
    public Builder review(dev.authservice.server.review.ReviewSettings v) { review = v; return this; }
    public Builder embeddedStoreUriFile(boolean v) { embeddedStoreUriFile = v; return this; }
    public Builder embeddedJournalInterval(Duration v) { embeddedJournalInterval = v; return this; }
    public Builder streams(StreamSettings v) { streams = v; return this; }
    public Builder analytics(dev.authservice.server.usecase.AnalyticsSettings v) { analytics = v; return this; }
    public Builder http(HttpSettings v) { http = v; return this; }
    /** OpenTelemetry SDK properties that turn OTLP trace export on; empty: no traces. */
    public Builder otel(java.util.Map<String, String> v) { otel = v; return this; }
    public Builder extAuthz(ExtAuthzSettings v) { extAuthz = v; return this; }

    public Builder bootstrapAdmin(Optional<String> username, Optional<String> password) {
      bootstrapAdminUsername = username;
      bootstrapAdminPassword = password;
      return this;
    }

    public ServerConfig build() {
      if (hashesAtOnce < 1) {
        throw new IllegalArgumentException("hashes at once must be at least 1, got " + hashesAtOnce);
      }
      if (instanceId == null) {
        instanceId = InstanceIds.generate();
      }
      return new ServerConfig(bindAddress, port, dataDir, mongoUri, database, issuer,
          defaultAudience, allowedAudiences, clientId, tokenTtl, clockSkew,
          bootstrapAdminUsername, bootstrapAdminPassword, hashParams, hashesAtOnce, maxInboundMessageBytes,
          trustedProxies, instanceId, storeTimeout, keys, refreshTokenTtl, sessionMaxLifetime,
          revocationPollInterval, throttle, tls, validateRequiresCaller, validateFailuresPerMinute,
          validateFailureDelay, refusalRollupMaxKeys, summaryMaxGroups,
          auditRetention, auditSweepInterval, validationAudit, rollupFlushInterval, auditCheckpointInterval,
          review, embeddedStoreUriFile, embeddedJournalInterval, streams, analytics, http, otel,
          extAuthz);
    }
  }

  /**
   * A cache may hold the JWK Set for AUTH_JWKS_MAX_AGE after it fetched it, and another instance
   * shows a new key only after its next key reload: a key published for less than both before it
   * signs would reach verifiers holding a set without it. Only when the JWK Set is served.
   */
  private static void checkJwksCaching(HttpSettings http, KeySettings keys) {
    if (http.publicPort().isEmpty() || keys.rotationInterval().isEmpty()) {
      return;
    }
    Duration needed = http.jwksMaxAge().plus(KeyAssembly.RELOAD_INTERVAL.multipliedBy(2));
    if (keys.publicationLead().compareTo(needed) < 0) {
      throw new IllegalArgumentException("AUTH_JWKS_MAX_AGE (" + http.jwksMaxAge() + ") plus "
          + KeyAssembly.RELOAD_INTERVAL.multipliedBy(2) + " for key reloads must not exceed AUTH_KEY_PUBLICATION_LEAD ("
          + keys.publicationLead() + "): a cached JWK Set would miss the next key when it starts signing; lower the"
          + " max-age or raise the lead");
    }
  }

  @Override
  public String toString() {
    return "ServerConfig[bind=" + bindAddress + ":" + port + ", dataDir=" + dataDir
        + ", store=" + (mongoUri.isPresent() ? "mongodb (MONGODB_URI)" : "embedded")
        + ", database=" + database + ", issuer=" + issuer + ", audience=" + defaultAudience
        + ", tokenTtl=" + tokenTtl + ", clockSkew=" + clockSkew + ", instance=" + instanceId
        + ", " + keys + ", tls=" + (tls.enabled() ? (tls.mutual() ? "mutual" : "on") : "off") + "]";
  }
}
