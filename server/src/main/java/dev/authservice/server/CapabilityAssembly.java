package dev.authservice.server;

import dev.authservice.server.keys.JwkSet;
import dev.authservice.server.password.PasswordHasher;
import dev.authservice.server.revocation.RevocationList;
import dev.authservice.server.revocation.RevocationStore;
import dev.authservice.server.routes.RoutesFile;
import dev.authservice.server.session.RefreshTokenStore;
import dev.authservice.server.session.Sessions;
import dev.authservice.server.storage.mongo.MongoStorage;
import dev.authservice.server.throttle.LoginThrottle;
import dev.authservice.server.token.TokenIssuer;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.usecase.AudiencePolicy;
import dev.authservice.server.usecase.Authorization;
import dev.authservice.server.usecase.CallerRecheck;
import dev.authservice.server.usecase.ExternalAuthorization;
import dev.authservice.server.usecase.KeyAdministration;
import dev.authservice.server.usecase.LoginService;
import dev.authservice.server.usecase.CallSlots;
import dev.authservice.server.usecase.TrailReading;
import dev.authservice.server.usecase.UseCaseMetrics;
import dev.authservice.server.usecase.UseCases;
import dev.authservice.server.usecase.UserAdministration;
import dev.authservice.server.usecase.ValidationService;
import dev.authservice.server.user.UserService;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Accounts, sessions, revocations, throttling, tokens, and the use cases built on them. */
final class CapabilityAssembly {
  private static final Logger log = LoggerFactory.getLogger(CapabilityAssembly.class);
  private static final Duration HOUSEKEEPING_INTERVAL = Duration.ofMinutes(1);

  final UseCases useCases;
  private final RevocationList revocations;
  private final RevocationStore revocationStore;
  private final RefreshTokenStore refreshTokens;
  private final LoginThrottle throttle;
  private final Optional<RoutesFile> routes;
  private final Clock clock;

  /** Whether this instance can answer token checks: it has read the revocations once. */
  boolean revocationsLoaded() {
    return revocations.loaded();
  }

  private CapabilityAssembly(UseCases useCases, RevocationList revocations, RevocationStore revocationStore,
      RefreshTokenStore refreshTokens, LoginThrottle throttle, Optional<RoutesFile> routes, Clock clock) {
    this.useCases = useCases;
    this.revocations = revocations;
    this.revocationStore = revocationStore;
    this.refreshTokens = refreshTokens;
    this.throttle = throttle;
    this.routes = routes;
    this.clock = clock;
  }

  static CapabilityAssembly build(MongoStorage storage, ServerConfig config, KeyAssembly keys, AuditAssembly audit,
      Clock clock, UseCaseMetrics metrics) {
    PasswordHasher hasher = new PasswordHasher(config.hashParams(), config.hashesAtOnce());
    UserService users = new UserService(storage.users(), hasher, clock);
    if (config.bootstrapAdminUsername().isPresent()
        && users.bootstrapAdmin(config.bootstrapAdminUsername().get(), config.bootstrapAdminPassword().get())) {
      log.info("created bootstrap admin '{}'", config.bootstrapAdminUsername().get());
    }
    RevocationStore revocationStore = storage.revocations();
    RevocationList revocations = new RevocationList(revocationStore, clock);
    revocations.refresh();
    RefreshTokenStore refreshTokens = storage.refreshTokens();
    Sessions sessions = new Sessions(refreshTokens, revocations, revocationStore, clock,
        config.refreshTokenTtl(), config.sessionMaxLifetime(), config.tokenTtl().plus(config.clockSkew()));
    LoginThrottle throttle = new LoginThrottle(storage.loginFailures(), storage.loginAddressAttempts(),
        config.throttle(), clock);
    TokenIssuer issuer = new TokenIssuer(keys.tokenKeys(), clock, config.issuer(), config.clientId(),
        config.tokenTtl());
    TokenVerifier verifier = new TokenVerifier(keys.tokenKeys(), revocations, clock, config.issuer(),
        config.defaultAudience(), config.tokenTtl(), config.clockSkew());
    LoginService logins = new LoginService(users, throttle, sessions, issuer, verifier, revocations, audit.log,
        config.clockSkew(), new AudiencePolicy(config.defaultAudience(), config.allowedAudiences()), metrics);
    ValidationService validation = new ValidationService(verifier, audit.log, audit.validationRollup, clock,
        config.validateFailuresPerMinute(), config.validateFailureDelay(), metrics);
    // a broken routes file stops the start here, before anything listens
    Optional<RoutesFile> routes = config.extAuthz().routesFile().map(RoutesFile::load);
    ExternalAuthorization externalAuthorization = new ExternalAuthorization(verifier, audit.log,
        audit.validationRollup, config.extAuthz().audience(), () -> routes.map(RoutesFile::rules),
        config.extAuthz().tokenCookie(), metrics);
    TrailReading trail = new TrailReading(audit.events.reads(), audit.checkpoints, audit.verification, audit.log,
        CallSlots.forStreams(config.streams()), CallSlots.forAnalytics(config.analytics()), CallSlots.forVerification(),
        new CallerRecheck(verifier, users, clock, config.streams().recheckInterval()), config.summaryMaxGroups());
    UseCases useCases = new UseCases(logins, validation,
        new UserAdministration(users, logins, throttle, audit.log, clock),
        new KeyAdministration(keys.tokenKeys(), keys.auditSigner(), audit.log), trail,
        new Authorization(verifier, audit.log), audit.review, new JwkSet(keys.tokenKeys()), keys.auditSigner(),
        externalAuthorization);
    return new CapabilityAssembly(useCases, revocations, revocationStore, refreshTokens, throttle, routes, clock);
  }

  void schedule(Background background, ServerConfig config) {
    Background.every(background.upkeep, config.revocationPollInterval(), "refresh revocations", revocations::refresh);
    Background.every(background.upkeep, HOUSEKEEPING_INTERVAL, "housekeeping", () -> {
      revocationStore.deleteExpired(clock.instant());
      refreshTokens.deleteExpired(clock.instant());
      throttle.forgetIdle();
    });
    routes.ifPresent(file -> Background.every(background.upkeep, config.extAuthz().routesPollInterval(),
        "reload the routes file", file::reloadIfChanged));
  }
}
