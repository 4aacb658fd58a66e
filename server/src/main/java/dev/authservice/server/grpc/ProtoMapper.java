package dev.authservice.server.grpc;

import com.google.protobuf.Timestamp;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.User;
import dev.authservice.proto.auth.v1.ValidationFailure;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.usecase.UserAdministration;
import java.time.Instant;
import java.util.Optional;

/** Converts between domain values and auth.v1 messages. */
final class ProtoMapper {
  private ProtoMapper() {}

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }

  /** An unset or zero timestamp means "no bound"; an out-of-range one is INVALID_ARGUMENT. */
  static Optional<Instant> optionalInstant(boolean present, Timestamp ts, String field) {
    if (!present || (ts.getSeconds() == 0 && ts.getNanos() == 0)) {
      return Optional.empty();
    }
    if (ts.getNanos() < 0 || ts.getNanos() > 999_999_999
        || ts.getSeconds() < -62_135_596_800L || ts.getSeconds() > 253_402_300_799L) {
      throw ServiceException.invalid(field + " is not a valid timestamp");
    }
    return Optional.of(Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos()));
  }

  /** Stored times have millisecond precision; filters are rounded the same way. */
  static Instant millis(Instant instant) {
    return Instant.ofEpochMilli(instant.toEpochMilli());
  }

  static User user(UserAdministration.Account account) {
    dev.authservice.server.user.User user = account.user();
    User.Builder proto = User.newBuilder()
        .setUsername(user.username())
        .addAllRoles(user.roles())
        .setDisabled(user.disabled())
        .setCreateTime(timestamp(user.createTime()))
        .setLockedPermanently(account.lockedPermanently());
    account.lockedUntil().ifPresent(until -> proto.setLockedUntil(timestamp(until)));
    return proto.build();
  }

  static ValidationFailure failure(dev.authservice.server.token.ValidationFailure failure) {
    return ValidationFailure.valueOf(failure.reasonCode());
  }

  static AuditEvent event(dev.authservice.server.audit.AuditEvent e) {
    AuditEvent.Builder proto = AuditEvent.newBuilder()
        .setId(e.id())
        .setTime(timestamp(e.time()))
        // a type or outcome this version does not know (a newer version's) is unspecified to the caller
        .setType(e.type().isKnown() ? AuditEventType.valueOf(e.type().storedName())
            : AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED)
        .setOutcome(e.outcome().isKnown() ? AuditOutcome.valueOf(e.outcome().storedName())
            : AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED)
        .setUsername(e.username())
        .setSubject(e.subject())
        .setTokenId(e.tokenId())
        .setClientIp(e.clientIp())
        .setUserAgent(e.userAgent())
        .setRpcMethod(e.rpcMethod())
        .setReason(e.reason())
        .setInstance(e.instance())
        .setActor(e.actor())
        .setPeerIdentity(e.peerIdentity())
        .setTraceId(e.traceId())
        .setCount(e.count())
        .setFirstTime(timestamp(e.firstTime()))
        .setLastTime(timestamp(e.lastTime()))
        .setChain(e.chain())
        .setSeq(e.seq())
        .setHash(e.hash())
        .setPrevHash(e.prevHash());
    e.alert().ifPresent(a -> proto.setAlert(dev.authservice.proto.auth.v1.Alert.newBuilder().setRule(a.rule())
        .setSeverity(a.severity()).setSummary(a.summary()).addAllEvidenceEventIds(a.evidenceEventIds())
        .setCount(a.count())));
    return proto.build();
  }

  static dev.authservice.server.audit.AuditEventType domainType(AuditEventType type) {
    if (type == AuditEventType.AUDIT_EVENT_TYPE_UNSPECIFIED || type == AuditEventType.UNRECOGNIZED) {
      throw ServiceException.invalid("types must not contain AUDIT_EVENT_TYPE_UNSPECIFIED or unknown values");
    }
    dev.authservice.server.audit.AuditEventType domain = dev.authservice.server.audit.AuditEventType.fromStoredName(type.name());
    if (!domain.isKnown()) {
      throw ServiceException.invalid("types: " + type.name() + " is not a type this server records");
    }
    return domain;
  }

  static Optional<dev.authservice.server.audit.AuditOutcome> domainOutcome(AuditOutcome outcome) {
    return switch (outcome) {
      case AUDIT_OUTCOME_UNSPECIFIED -> Optional.empty();
      case AUDIT_OUTCOME_SUCCESS -> Optional.of(dev.authservice.server.audit.AuditOutcome.SUCCESS);
      case AUDIT_OUTCOME_FAILURE -> Optional.of(dev.authservice.server.audit.AuditOutcome.FAILURE);
      case UNRECOGNIZED -> throw ServiceException.invalid("outcome is not a known AuditOutcome value");
    };
  }
}
