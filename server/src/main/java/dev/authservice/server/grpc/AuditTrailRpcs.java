package dev.authservice.server.grpc;

import dev.authservice.integrity.ChainReport;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.integrity.TrailReport;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.AuditProblem;
import dev.authservice.proto.auth.v1.ChainHead;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.QueryAuditResponse;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditFilter;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.AuditPosition;
import dev.authservice.server.audit.AuditStore;
import dev.authservice.server.audit.AuditVerification;
import dev.authservice.server.audit.Caller;
import dev.authservice.server.audit.CheckpointStore;
import dev.authservice.server.error.ServiceException;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.server.token.VerifiedToken;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The audit-trail RPCs of auth.v1.AuthService (QueryAudit, VerifyAudit, ListAuditCheckpoints):
 * requests to filters, results to messages. Each read of the trail is itself audited.
 */
final class AuditTrailRpcs {
  private static final String QUERY_AUDIT_SCOPE = "auth.v1.AuthService/QueryAudit";
  private static final String CHECKPOINTS_SCOPE = "auth.v1.AuthService/ListAuditCheckpoints";
  private static final int MAX_FILTER_LENGTH = 256;
  private static final int DEFAULT_CHECKPOINT_PAGE = 100;

  private final AuditLog audit;
  private final AuditStore auditStore;
  private final CheckpointStore checkpoints;
  private final AuditVerification verification;
  private final PageTokens pageTokens;

  AuditTrailRpcs(AuditLog audit, AuditStore auditStore, CheckpointStore checkpoints,
      AuditVerification verification, PageTokens pageTokens) {
    this.audit = audit;
    this.auditStore = auditStore;
    this.checkpoints = checkpoints;
    this.verification = verification;
    this.pageTokens = pageTokens;
  }

  QueryAuditResponse queryAudit(QueryAuditRequest request, Caller caller, VerifiedToken principal) {
    int pageSize = Paging.pageSize(request.getPageSize());
    AuditFilter filter = filter(request);
    String canonical = filter.canonical();
    Optional<AuditPosition> after = Optional.empty();
    if (!request.getPageToken().isEmpty()) {
      List<String> position = pageTokens.decode(QUERY_AUDIT_SCOPE, canonical, request.getPageToken());
      after = Optional.of(toPosition(position));
    }
    List<AuditEvent> found = auditStore.find(filter, after, pageSize + 1);
    boolean more = found.size() > pageSize;
    List<AuditEvent> page = more ? found.subList(0, pageSize) : found;
    QueryAuditResponse.Builder response = QueryAuditResponse.newBuilder();
    page.forEach(e -> response.addEvents(ProtoMapper.event(e)));
    if (more) {
      AuditEvent last = page.get(page.size() - 1);
      response.setNextPageToken(pageTokens.encode(QUERY_AUDIT_SCOPE, canonical,
          List.of(Long.toString(last.time().toEpochMilli()), last.id())));
    }
    recordRead(caller, principal);
    return response.build();
  }

  VerifyAuditResponse verifyAudit(VerifyAuditRequest request, Caller caller, VerifiedToken principal) {
    Optional<Instant> start = ProtoMapper.optionalInstant(request.hasStartTime(), request.getStartTime(), "start_time");
    Optional<Instant> end = ProtoMapper.optionalInstant(request.hasEndTime(), request.getEndTime(), "end_time");
    requireOrdered(start, end);
    TrailReport report = verification.verify(start, end);
    VerifyAuditResponse.Builder response = VerifyAuditResponse.newBuilder().setOk(report.ok())
        .setEventsVerified(report.eventsVerified()).setCheckpointsVerified(report.checkpointsVerified())
        .setUnanchoredEvents(report.unanchoredEvents());
    for (ChainReport chain : report.chains()) {
      response.addChains(dev.authservice.proto.auth.v1.ChainReport.newBuilder().setChain(chain.chain())
          .setEvents(chain.events()).setUnanchoredEvents(chain.unanchoredEvents())
          .setProblem(chain.problem().map(p -> AuditProblem.valueOf("AUDIT_PROBLEM_" + p.name()))
              .orElse(AuditProblem.AUDIT_PROBLEM_UNSPECIFIED))
          .setFirstBadSeq(chain.firstBadSeq()).setDetail(chain.detail()));
    }
    recordRead(caller, principal);
    return response.build();
  }

  ListAuditCheckpointsResponse listCheckpoints(ListAuditCheckpointsRequest request, Caller caller,
      VerifiedToken principal) {
    if (request.getPageSize() < 0) {
      throw ServiceException.invalid("page_size must not be negative");
    }
    int pageSize = request.getPageSize() == 0 ? DEFAULT_CHECKPOINT_PAGE
        : Math.min(request.getPageSize(), Paging.MAX_PAGE_SIZE);
    Optional<Instant> start = ProtoMapper.optionalInstant(request.hasStartTime(), request.getStartTime(), "start_time")
        .map(ProtoMapper::millis);
    Optional<Instant> end = ProtoMapper.optionalInstant(request.hasEndTime(), request.getEndTime(), "end_time")
        .map(ProtoMapper::millis);
    requireOrdered(start, end);
    String bound = start.map(i -> Long.toString(i.toEpochMilli())).orElse("-") + "|"
        + end.map(i -> Long.toString(i.toEpochMilli())).orElse("-");
    Optional<String> after = Optional.empty();
    if (!request.getPageToken().isEmpty()) {
      List<String> position = pageTokens.decode(CHECKPOINTS_SCOPE, bound, request.getPageToken());
      if (position.size() != 1) {
        throw ServiceException.invalid("page_token is not valid: pass next_page_token unchanged");
      }
      after = Optional.of(position.get(0));
    }
    List<CheckpointStore.Stored> found = checkpoints.page(start, end, after, pageSize + 1);
    boolean more = found.size() > pageSize;
    List<CheckpointStore.Stored> page = more ? found.subList(0, pageSize) : found;
    ListAuditCheckpointsResponse.Builder response = ListAuditCheckpointsResponse.newBuilder();
    page.forEach(stored -> response.addCheckpoints(checkpoint(stored.checkpoint())));
    if (more) {
      response.setNextPageToken(pageTokens.encode(CHECKPOINTS_SCOPE, bound,
          List.of(page.get(page.size() - 1).id())));
    }
    recordRead(caller, principal);
    return response.build();
  }

  static AuditCheckpoint checkpoint(Checkpoint c) {
    AuditCheckpoint.Builder proto = AuditCheckpoint.newBuilder().setKind(c.kind().name()).setChain(c.chain())
        .setSeq(c.seq()).setHash(c.hash()).setTime(ProtoMapper.timestamp(Instant.ofEpochMilli(c.time())))
        .setPrevCheckpointHash(c.prevCheckpointHash()).setCheckpointHash(c.checkpointHash())
        .setSignature(c.signature());
    c.heads().forEach(h -> proto.addHeads(ChainHead.newBuilder().setChain(h.chain()).setSeq(h.seq())
        .setHash(h.hash())));
    return proto.build();
  }

  private void recordRead(Caller caller, VerifiedToken principal) {
    audit.event(AuditEventType.AUDIT_QUERY, caller).username(principal.username())
        .subject(principal.subject()).tokenId(principal.tokenId()).success();
  }

  private static void requireOrdered(Optional<Instant> start, Optional<Instant> end) {
    if (start.isPresent() && end.isPresent() && !start.get().isBefore(end.get())) {
      throw ServiceException.invalid("start_time must be before end_time");
    }
  }

  static AuditFilter filter(QueryAuditRequest request) {
    Set<dev.authservice.server.audit.AuditEventType> types = new LinkedHashSet<>();
    request.getTypesList().forEach(t -> types.add(ProtoMapper.domainType(t)));
    Optional<Instant> start = ProtoMapper.optionalInstant(request.hasStartTime(), request.getStartTime(), "start_time");
    Optional<Instant> end = ProtoMapper.optionalInstant(request.hasEndTime(), request.getEndTime(), "end_time");
    requireOrdered(start, end);
    return new AuditFilter(types,
        exact(request.getUsername(), "username"),
        ProtoMapper.domainOutcome(request.getOutcome()),
        start.map(ProtoMapper::millis), end.map(ProtoMapper::millis),
        exact(request.getClientIp(), "client_ip"),
        exact(request.getTokenId(), "token_id"));
  }

  static Optional<String> exact(String value, String field) {
    if (value.length() > MAX_FILTER_LENGTH) {
      throw ServiceException.invalid(field + " must be at most " + MAX_FILTER_LENGTH + " characters");
    }
    return value.isEmpty() ? Optional.empty() : Optional.of(value);
  }

  private static AuditPosition toPosition(List<String> position) {
    if (position.size() != 2) {
      throw ServiceException.invalid("page_token is not valid: pass next_page_token unchanged");
    }
    try {
      return new AuditPosition(Instant.ofEpochMilli(Long.parseLong(position.get(0))), position.get(1));
    } catch (NumberFormatException e) {
      throw ServiceException.invalid("page_token is not valid: pass next_page_token unchanged");
    }
  }
}
