package dev.authservice.server.usecase;

import dev.authservice.integrity.TrailReport;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.chain.AuditVerification;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.read.AuditPosition;
import dev.authservice.server.audit.read.AuditStream;
import dev.authservice.server.audit.read.AuditSummary;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.audit.read.StreamPosition;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.token.VerifiedToken;
import dev.authservice.server.user.User;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reading the trail: queries, verification, checkpoints, summaries and streams. Every read is
 * itself an {@code AUDIT_QUERY} event; a stream refused for the caller's limit, or ended because
 * the caller lost access, is an {@code ACCESS_DENIED}.
 */
public final class TrailReading {
  /** Who may read the trail. */
  public static final Set<String> READER_ROLES = Set.of(User.ROLE_AUDITOR, User.ROLE_ADMIN);

  /** Who reads: the call and the verified bearer token it came with. */
  public record Reader(Caller caller, VerifiedToken principal) {}

  /** A stream that may start: its cursor, its slot (close it at the end), and its caller's standing. */
  public record OpenStream(AuditStream stream, CallSlots.Slot slot, CallerRecheck.Standing standing) {}

  private final EventReads events;
  private final CheckpointStore checkpoints;
  private final AuditVerification verification;
  private final AuditLog audit;
  private final CallSlots streamSlots;
  private final CallSlots analyticsSlots;
  private final CallSlots verifySlots;
  private final CallerRecheck recheck;
  private final int summaryMaxRows;

  public TrailReading(EventReads events, CheckpointStore checkpoints, AuditVerification verification, AuditLog audit,
      CallSlots streamSlots, CallSlots analyticsSlots, CallSlots verifySlots, CallerRecheck recheck,
      int summaryMaxRows) {
    this.events = events;
    this.checkpoints = checkpoints;
    this.verification = verification;
    this.audit = audit;
    this.streamSlots = streamSlots;
    this.analyticsSlots = analyticsSlots;
    this.verifySlots = verifySlots;
    this.recheck = recheck;
    this.summaryMaxRows = summaryMaxRows;
  }

  /** Up to {@code limit} matching events, newest first, after {@code after}. */
  public List<AuditEvent> query(AuditFilter filter, Optional<AuditPosition> after, int limit, Reader reader) {
    List<AuditEvent> found = events.find(filter, after, limit);
    recordRead(reader);
    return found;
  }

  /** VerifyAudit, within the analytics calls' bounds and one at a time (RESOURCE_EXHAUSTED beyond). */
  public TrailReport verify(Optional<Instant> start, Optional<Instant> end, Reader reader,
      java.util.function.BooleanSupplier cancelled) {
    try (CallSlots.Slot slot = reserve(analyticsSlots, reader); CallSlots.Slot only = reserve(verifySlots, reader)) {
      TrailReport report = verification.verify(start, end, cancelled);
      recordRead(reader);
      return report;
    }
  }

  public List<CheckpointStore.Stored> checkpoints(Optional<Instant> start, Optional<Instant> end,
      Optional<CheckpointStore.PagePosition> after, int limit, Reader reader) {
    List<CheckpointStore.Stored> found = checkpoints.page(start, end, after, limit);
    recordRead(reader);
    return found;
  }

  /** Rows by bucket, largest counts first, at most {@code limitPerBucket} a bucket (0: all). */
  public List<AuditSummary.Row> summarize(AuditSummary.Query query, int limitPerBucket, Reader reader) {
    try (CallSlots.Slot slot = reserve(analyticsSlots, reader)) {
      List<AuditSummary.Row> rows = AuditSummary.ordered(events.summarize(query, summaryMaxRows), limitPerBucket);
      recordRead(reader);
      return rows;
    }
  }

  /**
   * Reserves a place for a stream (per caller and per instance: RESOURCE_EXHAUSTED beyond either)
   * and opens its cursor. The caller of this closes the slot when the stream ends.
   */
  public OpenStream openStream(AuditFilter filter, StreamPosition from, boolean fromCheckpoints, Reader reader) {
    CallSlots.Slot slot = reserve(streamSlots, reader);
    try {
      AuditStream stream = new AuditStream(events, checkpoints, filter, from,
          fromCheckpoints && filter.start().isPresent());
      recordRead(reader);
      return new OpenStream(stream, slot, recheck.standing(reader.principal(), READER_ROLES));
    } catch (RuntimeException | Error e) {
      slot.close();
      throw e;
    }
  }

  /** A slot for the reader (per caller: its token's subject), or RESOURCE_EXHAUSTED, recorded as ACCESS_DENIED. */
  private CallSlots.Slot reserve(CallSlots slots, Reader reader) {
    return switch (slots.reserve("sub:" + reader.principal().subject())) {
      case CallSlots.Refused refused -> {
        // counted, not written one by one: a caller retrying in a loop would write a document a call
        accessDenied(reader).refusedForAccount(refused.reason());
        throw new ServiceException(ServiceException.Kind.EXHAUSTED, refused.message());
      }
      case CallSlots.Granted granted -> granted.slot();
    };
  }

  /** A stream ended because its caller lost access. */
  public void streamEnded(Reader reader, CallerRecheck.Denial denial) {
    denied(reader, denial.reason());
  }

  private void denied(Reader reader, String reason) {
    accessDenied(reader).failure(reason);
  }

  /** The ACCESS_DENIED event of a reader, naming its account and token. */
  private AuditLog.Entry accessDenied(Reader reader) {
    VerifiedToken p = reader.principal();
    return audit.event(AuditEventType.ACCESS_DENIED, reader.caller()).username(p.username()).subject(p.subject())
        .tokenId(p.tokenId());
  }

  private void recordRead(Reader reader) {
    VerifiedToken p = reader.principal();
    audit.event(AuditEventType.AUDIT_QUERY, reader.caller()).username(p.username()).subject(p.subject())
        .tokenId(p.tokenId()).success();
  }
}
