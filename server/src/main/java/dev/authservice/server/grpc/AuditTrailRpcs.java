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
import dev.authservice.proto.auth.v1.AuditDimension;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.SummarizeAuditResponse;
import dev.authservice.proto.auth.v1.SummaryRow;
import dev.authservice.server.audit.AuditSummary;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.server.access.CallerRecheck;
import dev.authservice.server.access.StreamSlots;
import dev.authservice.server.audit.AuditStream;
import dev.authservice.server.audit.StreamPosition;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Map;
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
  private static final String STREAM_SCOPE = "auth.v1.AuthService/StreamAudit";
  private static final int MAX_GROUP_BY = 4;
  private static final java.time.Duration MAX_MINUTE_RANGE = java.time.Duration.ofDays(7);
  private static final String BAD_RESUME_TOKEN =
      "resume_token is not valid: pass a resume_token from this stream unchanged";

  private final AuditLog audit;
  private final AuditStore auditStore;
  private final CheckpointStore checkpoints;
  private final AuditVerification verification;
  private final PageTokens pageTokens;
  private final StreamSlots streamSlots;
  private final CallerRecheck recheck;
  private final Set<String> streamRoles;

  private final int summaryMaxRows;

  AuditTrailRpcs(AuditLog audit, AuditStore auditStore, CheckpointStore checkpoints,
      AuditVerification verification, PageTokens pageTokens, StreamSlots streamSlots, CallerRecheck recheck,
      Set<String> streamRoles, int summaryMaxRows) {
    this.summaryMaxRows = summaryMaxRows;
    this.audit = audit;
    this.auditStore = auditStore;
    this.checkpoints = checkpoints;
    this.verification = verification;
    this.pageTokens = pageTokens;
    this.streamSlots = streamSlots;
    this.recheck = recheck;
    this.streamRoles = Set.copyOf(streamRoles);
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
      dev.authservice.proto.auth.v1.ChainReport.Builder row = dev.authservice.proto.auth.v1.ChainReport.newBuilder()
          .setChain(chain.chain()).setEvents(chain.events()).setUnanchoredEvents(chain.unanchoredEvents())
          .setProblem(chain.problem().map(p -> AuditProblem.valueOf("AUDIT_PROBLEM_" + p.name()))
              .orElse(AuditProblem.AUDIT_PROBLEM_UNSPECIFIED))
          .setFirstBadSeq(chain.firstBadSeq()).setDetail(chain.detail()).setLostEvents(chain.lostEvents());
      chain.lastCheckpointMillis().ifPresent(millis -> row.setLastCheckpointTime(
          ProtoMapper.timestamp(Instant.ofEpochMilli(millis))));
      response.addChains(row);
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

  /**
   * StreamAudit. The request is checked and a slot reserved here (per caller and per instance,
   * RESOURCE_EXHAUSTED beyond either); the events are then sent by an {@link AuditStreamSender},
   * which re-checks the caller while the stream lasts.
   */
  void streamAudit(StreamAuditRequest request, Caller caller, VerifiedToken principal,
      ServerCallStreamObserver<StreamAuditResponse> out, Rpcs rpcs) {
    AuditFilter filter;
    StreamPosition from;
    String canonical;
    StreamSlots.Slot slot = null;
    try {
      filter = streamFilter(request);
      // from_checkpoints is named only when set, so tokens issued before it existed still resume
      canonical = filter.canonical() + "|follow=" + request.getFollow()
          + (request.getFromCheckpoints() ? "|from_checkpoints=true" : "");
      from = request.getResumeToken().isEmpty() ? StreamPosition.START
          : resumePosition(pageTokens.decodeAny(STREAM_SCOPE, canonical, request.getResumeToken()));
      switch (streamSlots.reserve("sub:" + principal.subject())) {
        case StreamSlots.Refused refused -> {
          denied(caller, principal, refused.reason());
          throw new ServiceException(ServiceException.Kind.EXHAUSTED, refused.message());
        }
        case StreamSlots.Granted granted -> slot = granted.slot();
      }
      recordRead(caller, principal);
      new AuditStreamSender(new AuditStream(auditStore, checkpoints, filter, from,
          request.getFromCheckpoints() && filter.start().isPresent()), request.getFollow(),
          delivery -> StreamAuditResponse.newBuilder().setEvent(ProtoMapper.event(delivery.event()))
              .setResumeToken(pageTokens.encodeBytes(STREAM_SCOPE, canonical, delivery.position().toBytes())).build(),
          recheck.standing(principal, streamRoles), denial -> denied(caller, principal, denial.reason()), slot, out,
          rpcs).start();
    } catch (RuntimeException e) {
      if (slot != null) {
        slot.close();
      }
      out.onError(new io.grpc.StatusRuntimeException(rpcs.toStatus(e)));
    }
  }

  /** A refused or ended stream, recorded like the interceptor's refusals. */
  private void denied(Caller caller, VerifiedToken principal, String reason) {
    audit.event(AuditEventType.ACCESS_DENIED, caller).username(principal.username())
        .subject(principal.subject()).tokenId(principal.tokenId()).failure(reason);
  }

  /** A resume token's position: the bounded kind, or the first kind (a position for every chain by id). */
  private static StreamPosition resumePosition(PageTokens.Position position) {
    try {
      return switch (position) {
        case PageTokens.Binary binary -> StreamPosition.fromBytes(binary.bytes());
        case PageTokens.Parts parts -> StreamPosition.ofChainIds(positions(parts.parts()));
      };
    } catch (IllegalArgumentException e) {
      throw ServiceException.invalid(BAD_RESUME_TOKEN);
    }
  }

  private static Map<String, Long> positions(List<String> encoded) {
    Map<String, Long> positions = new java.util.HashMap<>();
    for (String entry : encoded) {
      int colon = entry.indexOf(':');
      try {
        positions.put(entry.substring(colon + 1), Long.parseLong(entry.substring(0, colon)));
      } catch (RuntimeException e) {
        throw ServiceException.invalid(BAD_RESUME_TOKEN);
      }
    }
    return positions;
  }

  private static AuditFilter streamFilter(StreamAuditRequest request) {
    return filter(request.getTypesList(), request.getOutcome(), request.getUsername(), request.getClientIp(), "",
        request.hasStartTime(), request.getStartTime(), request.hasEndTime(), request.getEndTime());
  }

  SummarizeAuditResponse summarize(SummarizeAuditRequest request, Caller caller, VerifiedToken principal) {
    if (request.getGroupByCount() > MAX_GROUP_BY) {
      throw ServiceException.invalid("group_by takes at most " + MAX_GROUP_BY + " dimensions");
    }
    List<AuditSummary.Dimension> dimensions = new java.util.ArrayList<>();
    for (AuditDimension d : request.getGroupByList()) {
      if (d == AuditDimension.AUDIT_DIMENSION_UNSPECIFIED || d == AuditDimension.UNRECOGNIZED) {
        throw ServiceException.invalid("group_by must not contain AUDIT_DIMENSION_UNSPECIFIED or unknown values");
      }
      AuditSummary.Dimension dimension = AuditSummary.Dimension.valueOf(d.name().substring("AUDIT_DIMENSION_".length()));
      if (dimensions.contains(dimension)) {
        throw ServiceException.invalid("group_by names " + d.name() + " twice");
      }
      dimensions.add(dimension);
    }
    AuditSummary.Bucket bucket = switch (request.getBucket()) {
      case TIME_BUCKET_UNSPECIFIED -> AuditSummary.Bucket.WHOLE_RANGE;
      case TIME_BUCKET_MINUTE -> AuditSummary.Bucket.MINUTE;
      case TIME_BUCKET_HOUR -> AuditSummary.Bucket.HOUR;
      case TIME_BUCKET_DAY -> AuditSummary.Bucket.DAY;
      case UNRECOGNIZED -> throw ServiceException.invalid("bucket is not a known TimeBucket value");
    };
    if (request.getLimit() < 0) {
      throw ServiceException.invalid("limit must not be negative");
    }
    AuditFilter filter = filter(request.getTypesList(), request.getOutcome(), request.getUsername(),
        request.getClientIp(), "", request.hasStartTime(), request.getStartTime(), request.hasEndTime(),
        request.getEndTime());
    if (bucket == AuditSummary.Bucket.MINUTE && (filter.start().isEmpty() || filter.end().isEmpty()
        || java.time.Duration.between(filter.start().get(), filter.end().get()).compareTo(MAX_MINUTE_RANGE) > 0)) {
      throw ServiceException.invalid("minute buckets need start_time and end_time at most " + MAX_MINUTE_RANGE.toDays()
          + " days apart");
    }
    List<AuditSummary.Row> rows = AuditSummary.ordered(
        auditStore.summarize(new AuditSummary.Query(filter, dimensions, bucket), summaryMaxRows), request.getLimit());
    SummarizeAuditResponse.Builder response = SummarizeAuditResponse.newBuilder();
    for (AuditSummary.Row row : rows) {
      SummaryRow.Builder proto = SummaryRow.newBuilder().addAllKeys(row.keys()).setCount(row.count());
      row.bucketStart().or(filter::start).ifPresent(b -> proto.setBucketStart(ProtoMapper.timestamp(b)));
      response.addRows(proto);
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
    c.lost().forEach(l -> proto.addLost(dev.authservice.proto.auth.v1.LostEvents.newBuilder().setFromSeq(l.fromSeq())
        .setToSeq(l.toSeq()).setPrevHash(l.prevHash()).setHash(l.hash()).setReason(l.reason())));
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
    return filter(request.getTypesList(), request.getOutcome(), request.getUsername(), request.getClientIp(),
        request.getTokenId(), request.hasStartTime(), request.getStartTime(), request.hasEndTime(),
        request.getEndTime());
  }

  /** The filter every audit read shares: typed values only, times rounded as stored, start before end. */
  private static AuditFilter filter(List<dev.authservice.proto.auth.v1.AuditEventType> requestedTypes,
      dev.authservice.proto.auth.v1.AuditOutcome outcome, String username, String clientIp, String tokenId,
      boolean hasStart, com.google.protobuf.Timestamp startTime, boolean hasEnd, com.google.protobuf.Timestamp endTime) {
    Set<dev.authservice.server.audit.AuditEventType> types = new LinkedHashSet<>();
    requestedTypes.forEach(t -> types.add(ProtoMapper.domainType(t)));
    Optional<Instant> start = ProtoMapper.optionalInstant(hasStart, startTime, "start_time");
    Optional<Instant> end = ProtoMapper.optionalInstant(hasEnd, endTime, "end_time");
    requireOrdered(start, end);
    return new AuditFilter(types, exact(username, "username"), ProtoMapper.domainOutcome(outcome),
        start.map(ProtoMapper::millis), end.map(ProtoMapper::millis), exact(clientIp, "client_ip"),
        exact(tokenId, "token_id"));
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
