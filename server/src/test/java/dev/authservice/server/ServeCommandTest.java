package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.authservice.server.options.CommandLineOption;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each setting lands in its own field of the configuration: given a value other than its default,
 * it changes that field and no other. The flags are written twice, once in the table and once in
 * {@link ServeCommand#toConfig}; two of one type swapped there (the HTTP listener's threads and
 * queue, say) would pass every other test.
 */
class ServeCommandTest {
  /**
   * Where each setting lands, as a path of record components of {@link ServerConfig}; empty for
   * one read before the configuration (JvmRelaunch). Settings without a value here (file paths
   * checked when read, the review's history and hours) are not tried.
   */
  private static final Map<String, String> LANDS_IN = Map.ofEntries(
      Map.entry("--admin-bind-address", "http.adminBindAddress"),
      Map.entry("--analytics-max-at-once", "analytics.maxAtOnce"),
      Map.entry("--analytics-max-per-caller", "analytics.maxPerCaller"),
      Map.entry("--verify-max-checkpoints", "analytics.verifyMaxCheckpoints"),
      Map.entry("--admin-port", "http.adminPort"),
      Map.entry("--allow-plaintext", "tls.allowPlaintext"),
      Map.entry("--allowed-audiences", "allowedAudiences"),
      Map.entry("--argon2-iterations", "hashParams.iterations"),
      Map.entry("--argon2-memory-kib", "hashParams.memoryKib"),
      Map.entry("--argon2-parallelism", "hashParams.parallelism"),
      Map.entry("--audience", "defaultAudience"),
      Map.entry("--audit-checkpoint-interval", "auditCheckpointInterval"),
      Map.entry("--audit-key-rotation-interval", "keys.auditRotationInterval"),
      Map.entry("--audit-retention", "auditRetention"),
      Map.entry("--audit-sweep-interval", "auditSweepInterval"),
      Map.entry("--bind-address", "bindAddress"),
      Map.entry("--bootstrap-admin-password", "bootstrapAdminPassword"),
      Map.entry("--bootstrap-admin-username", "bootstrapAdminUsername"),
      Map.entry("--client-id", "clientId"),
      Map.entry("--clock-skew", "clockSkew"),
      Map.entry("--data-dir", "dataDir"),
      Map.entry("--embedded-journal-interval", "embeddedJournalInterval"),
      Map.entry("--embedded-store-uri-file", "embeddedStoreUriFile"),
      Map.entry("--encrypt-plaintext-keys", "keys.encryptPlaintextKeys"),
      Map.entry("--ext-authz-audience", "extAuthz.audience"),
      Map.entry("--ext-authz-realm", "extAuthz.realm"),
      Map.entry("--ext-authz-remove-authorization", "extAuthz.removeAuthorization"),
      Map.entry("--ext-authz-roles-header", "extAuthz.rolesHeader"),
      Map.entry("--ext-authz-routes-poll-interval", "extAuthz.routesPollInterval"),
      Map.entry("--ext-authz-subject-header", "extAuthz.subjectHeader"),
      Map.entry("--ext-authz-token-cookie", "extAuthz.tokenCookie"),
      Map.entry("--ext-authz-username-header", "extAuthz.usernameHeader"),
      Map.entry("--http-bind-address", "http.publicBindAddress"),
      Map.entry("--http-port", "http.publicPort"),
      Map.entry("--http-queue", "http.queue"),
      Map.entry("--http-request-timeout", "http.requestTimeout"),
      Map.entry("--http-threads", "http.threads"),
      Map.entry("--insecure-dev-keys", "keys.insecureDevKeys"),
      Map.entry("--instance-id", "instanceId"),
      Map.entry("--ip-failure-limit", "throttle.ipFailuresPerMinute"),
      Map.entry("--issuer", "issuer"),
      Map.entry("--jwks-max-age", "http.jwksMaxAge"),
      Map.entry("--key-publication-lead", "keys.publicationLead"),
      Map.entry("--key-rotation-interval", "keys.rotationInterval"),
      Map.entry("--lockout-after-failures", "throttle.lockoutAfterFailures"),
      Map.entry("--login-account-queue", "throttle.accountTurnQueue"),
      Map.entry("--login-account-wait", "throttle.accountTurnWait"),
      Map.entry("--max-message-bytes", "maxInboundMessageBytes"),
      Map.entry("--mongodb-database", "database"),
      Map.entry("--mongodb-uri", "mongoUri"),
      Map.entry("--port", "port"),
      Map.entry("--public-base-url", "http.publicBaseUrl"),
      Map.entry("--refresh-token-ttl", "refreshTokenTtl"),
      Map.entry("--refusal-rollup-max-keys", "refusalRollupMaxKeys"),
      Map.entry("--relaunch", ""),
      Map.entry("--review-credential-stuffing", "review.credentialStuffing"),
      Map.entry("--review-failed-login-burst", "review.failedLoginBurst.count"),
      Map.entry("--review-max-events", "review.maxEvents"),
      Map.entry("--review-revoked-token-use", "review.revokedTokenUse"),
      Map.entry("--review-schedule", "review.schedule"),
      Map.entry("--review-success-after-failures", "review.successAfterFailures"),
      Map.entry("--review-token-forgery", "review.tokenForgery"),
      Map.entry("--revocation-poll-interval", "revocationPollInterval"),
      Map.entry("--rollup-flush-interval", "rollupFlushInterval"),
      Map.entry("--session-max-lifetime", "sessionMaxLifetime"),
      Map.entry("--signing-algorithm", "keys.algorithm"),
      Map.entry("--store-timeout", "storeTimeout"),
      Map.entry("--stream-max-open", "streams.maxOpen"),
      Map.entry("--stream-max-per-caller", "streams.maxPerCaller"),
      Map.entry("--stream-recheck-interval", "streams.recheckInterval"),
      Map.entry("--summary-max-groups", "summaryMaxGroups"),
      Map.entry("--throttle-after-failures", "throttle.failuresBeforeWait"),
      Map.entry("--throttle-max-wait", "throttle.maxWait"),
      Map.entry("--token-ttl", "tokenTtl"),
      Map.entry("--trusted-proxies", "trustedProxies"),
      Map.entry("--validate-failure-delay", "validateFailureDelay"),
      Map.entry("--validate-failure-limit", "validateFailuresPerMinute"),
      Map.entry("--validate-require-caller", "validateRequiresCaller"),
      Map.entry("--validation-audit", "validationAudit"));

  /** Values other than the default for the settings whose default says nothing of their form. */
  private static final Map<String, String> OTHER_VALUES = Map.ofEntries(
      Map.entry("--bind-address", "127.0.0.2"),
      Map.entry("--data-dir", "other-data"),
      Map.entry("--http-bind-address", "127.0.0.3"),
      Map.entry("--admin-bind-address", "127.0.0.4"),
      Map.entry("--public-base-url", "https://auth.example.com"),
      Map.entry("--mongodb-uri", "mongodb://db.example.com:27017"),
      Map.entry("--mongodb-database", "other"),
      Map.entry("--issuer", "other-issuer"),
      Map.entry("--audience", "other-audience"),
      Map.entry("--allowed-audiences", "a1,a2"),
      Map.entry("--client-id", "other-client"),
      Map.entry("--bootstrap-admin-username", "root"),
      Map.entry("--bootstrap-admin-password", "other-Password-1"),
      Map.entry("--trusted-proxies", "10.0.0.0/8"),
      Map.entry("--instance-id", "other-instance"),
      Map.entry("--signing-algorithm", "ES256"),
      Map.entry("--validation-audit", "rollup"),
      Map.entry("--review-schedule", "0 3 * * *"),
      Map.entry("--review-failed-login-burst", "11/PT5M"),
      Map.entry("--review-credential-stuffing", "off"),
      Map.entry("--review-success-after-failures", "off"),
      Map.entry("--review-token-forgery", "off"),
      Map.entry("--review-revoked-token-use", "off"),
      Map.entry("--ext-authz-audience", "shop"),
      Map.entry("--ext-authz-subject-header", "x-other-subject"),
      Map.entry("--ext-authz-username-header", "x-other-username"),
      Map.entry("--ext-authz-roles-header", "x-other-roles"),
      Map.entry("--ext-authz-realm", "other-realm"),
      Map.entry("--ext-authz-token-cookie", "session"));

  @TempDir static Path dir;
  private static Path keyFile;

  @Test
  void eachSettingChangesItsOwnFieldAndNoOther() throws Exception {
    // a key-encryption key, so that every setting about keys may take its other value
    keyFile = Files.writeString(dir.resolve("kek"), Base64.getEncoder().encodeToString(new byte[32]));
    ServerConfig base = config();
    Map<String, String> landed = new TreeMap<>();
    for (CommandLineOption option : ServeCommand.OPTIONS.options()) {
      Optional<String> other = otherValue(option);
      other.ifPresent(value -> landed.put(option.flag(),
          String.join(" and ", differences("", base, config(option.flag() + "=" + value)))));
    }
    assertEquals(new TreeMap<>(LANDS_IN), landed);
  }

  private static ServerConfig config(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    // settings given in every configuration: the instance id is otherwise the host name and a random
    // suffix, new in each; the bootstrap admin's name and password go together
    Map.of("--instance-id", "fixed", "--bootstrap-admin-username", "admin",
        "--bootstrap-admin-password", "admin-Password-1", "--key-encryption-key-file", keyFile.toString()).forEach((flag, value) -> {
          if (all.stream().noneMatch(arg -> arg.startsWith(flag + "="))) {
            all.add(flag + "=" + value);
          }
        });
    return new ServeCommand(ServeCommand.OPTIONS.parse(all.toArray(String[]::new), Map.of())).toConfig();
  }

  /** A valid value other than the option's default, or empty when the test has none for it. */
  private static Optional<String> otherValue(CommandLineOption option) {
    if (OTHER_VALUES.containsKey(option.flag())) {
      return Optional.of(OTHER_VALUES.get(option.flag()));
    }
    String value = option.defaultValue();
    if (option.isSwitch()) {
      return Optional.of(Boolean.toString(!Boolean.parseBoolean(value)));
    }
    if (value.matches("[0-9]+")) {
      return Optional.of(Integer.toString(Integer.parseInt(value) + 1));
    }
    try {
      return Optional.of(Duration.parse(value).plusSeconds(1).toString());
    } catch (DateTimeParseException notADuration) {
      return Optional.empty();
    }
  }

  /** The paths of the record components in which {@code a} and {@code b} differ. */
  private static List<String> differences(String path, Object a, Object b) {
    if (java.util.Objects.equals(a, b)
        || a instanceof Optional<?> x && b instanceof Optional<?> y && x.isPresent() && y.isPresent()
            && x.get() instanceof byte[] p && y.get() instanceof byte[] q && Arrays.equals(p, q)) {
      return List.of();
    }
    if (a instanceof Optional<?> x && b instanceof Optional<?> y && x.isPresent() && y.isPresent()
        && x.get().getClass().isRecord()) {
      return differences(path, x.get(), y.get());
    }
    if (a != null && b != null && a.getClass().isRecord() && a.getClass() == b.getClass()) {
      List<String> found = new ArrayList<>();
      for (RecordComponent component : a.getClass().getRecordComponents()) {
        try {
          found.addAll(differences(path.isEmpty() ? component.getName() : path + "." + component.getName(),
              component.getAccessor().invoke(a), component.getAccessor().invoke(b)));
        } catch (ReflectiveOperationException e) {
          throw new IllegalStateException(e);
        }
      }
      return found;
    }
    return List.of(path);
  }
}
