package dev.authservice.server.grpc;

import dev.authservice.server.usecase.TrailReading;

import dev.authservice.server.paging.PageSizes;

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
import dev.authservice.server.audit.read.AuditSummary;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.server.usecase.CallerRecheck;
import dev.authservice.server.usecase.CallSlots;
import dev.authservice.server.audit.read.AuditStream;
import dev.authservice.server.audit.read.StreamPosition;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Map;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.read.AuditPosition;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.audit.chain.AuditVerification;
import dev.authservice.server.core.Caller;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.core.ServiceException;
import dev.authservice.server.core.TraceParent;
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
      PageTokens.TokenField.RESUME_TOKEN.notValid();

  private final TrailReading trail;
  private final PageTokens pageTokens;

  AuditTrailRpcs(TrailReading trail, PageTokens pageTokens) {
    this.trail = trail;
    this.pageTokens = pageTokens;
  }

  QueryAuditResponse queryAudit(QueryAuditRequest request, TrailReading.Reader reader) {
    int pageSize = PageSizes.pageSize(request.getPageSize());
    AuditFilter filter = filter(request);
    String canonical = filter.canonical();
    Optional<AuditPosition> after = Optional.empty();
    if (!request.getPageToken().isEmpty()) {
      List<String> position = pageTokens.decode(QUERY_AUDIT_SCOPE, canonical, request.getPageToken());
      after = Optional.of(toPosition(position));
    }
    List<AuditEvent> found = trail.query(filter, after, pageSize + 1, reader);
    boolean more = found.size() > pageSize;
    List<AuditEvent> page = more ? found.subList(0, pageSize) : found;
    QueryAuditResponse.Builder response = QueryAuditResponse.newBuilder();
    page.forEach(e -> response.addEvents(ProtoMapper.event(e)));
    if (more) {
      AuditEvent last = page.get(page.size() - 1);
      response.setNextPageToken(pageTokens.encode(QUERY_AUDIT_SCOPE, canonical,
          List.of(Long.toString(last.time().toEpochMilli()), positionId(last.id()))));
    }
    return response.build();
  }

  /**
   * The id a page token of a newest-first page resumes below. An id this server writes has 36
   * characters; one edited into the store may have any number, more than a token holds, so only
   * its first {@value #MAX_POSITION_ID_CODE_POINTS} code points are carried: a prefix sorts before
   * the id, so the next page still starts after the event shown (skipping only an event of the same
   * millisecond whose id is that prefix or lies between the two).
   */
  private static String positionId(String id) {
    return id.codePointCount(0, id.length()) <= MAX_POSITION_ID_CODE_POINTS ? id
        : id.substring(0, id.offsetByCodePoints(0, MAX_POSITION_ID_CODE_POINTS));
  }

  /**
   * The same for an oldest-first page, which resumes above the id: the prefix followed by the
   * highest code point sorts after the id (skipping only an event of the same millisecond whose id
   * lies between the two).
   */
  private static String positionIdAscending(String id) {
    String prefix = positionId(id);
    return prefix.equals(id) ? id : prefix + Character.toString(Character.MAX_CODE_POINT);
  }

  private static final int MAX_POSITION_ID_CODE_POINTS = 128;

  VerifyAuditResponse verifyAudit(VerifyAuditRequest request, TrailReading.Reader reader) {
    Optional<Instant> start = ProtoMapper.optionalInstant(request.hasStartTime(), request.getStartTime(), "start_time");
    Optional<Instant> end = ProtoMapper.optionalInstant(request.hasEndTime(), request.getEndTime(), "end_time");
    requireOrdered(start, end);
    // a deadline passed or a client gone cancels the call's context: the walk stops at its next page
    io.grpc.Context call = io.grpc.Context.current();
    TrailReport report = trail.verify(start, end, reader, call::isCancelled);
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
    return response.build();
  }

  ListAuditCheckpointsResponse listCheckpoints(ListAuditCheckpointsRequest request, TrailReading.Reader reader) {
    if (request.getPageSize() < 0) {
      throw ServiceException.invalid("page_size must not be negative");
    }
    int pageSize = request.getPageSize() == 0 ? DEFAULT_CHECKPOINT_PAGE
        : Math.min(request.getPageSize(), PageSizes.MAX_PAGE_SIZE);
    Optional<Instant> start = ProtoMapper.optionalInstant(request.hasStartTime(), request.getStartTime(), "start_time")
        .map(ProtoMapper::millis);
    Optional<Instant> end = ProtoMapper.optionalInstant(request.hasEndTime(), request.getEndTime(), "end_time")
        .map(ProtoMapper::millis);
    requireOrdered(start, end);
    String bound = start.map(i -> Long.toString(i.toEpochMilli())).orElse("-") + "|"
        + end.map(i -> Long.toString(i.toEpochMilli())).orElse("-");
    Optional<CheckpointStore.PagePosition> after = Optional.empty();
    if (!request.getPageToken().isEmpty()) {
      // (time, id), as a QueryAudit page's; a token of the order before 4 December 2026 held the id
      // alone, and is refused: start the listing again
      AuditPosition position = toPosition(pageTokens.decode(CHECKPOINTS_SCOPE, bound, request.getPageToken()));
      after = Optional.of(new CheckpointStore.PagePosition(position.time(), position.id()));
    }
    List<CheckpointStore.Stored> found = trail.checkpoints(start, end, after, pageSize + 1, reader);
    boolean more = found.size() > pageSize;
    List<CheckpointStore.Stored> page = more ? found.subList(0, pageSize) : found;
    ListAuditCheckpointsResponse.Builder response = ListAuditCheckpointsResponse.newBuilder();
    page.forEach(stored -> response.addCheckpoints(checkpoint(stored.checkpoint())));
    if (more) {
      CheckpointStore.Stored last = page.get(page.size() - 1);
      response.setNextPageToken(pageTokens.encode(CHECKPOINTS_SCOPE, bound,
          List.of(Long.toString(last.checkpoint().time()), positionIdAscending(last.id()))));
    }
    return response.build();
  }

  /**
   * StreamAudit. The request is checked and a slot reserved by the use case; the events are then
   * sent by an {@link AuditStreamSender}, which re-checks the caller while the stream lasts.
   */
  void streamAudit(StreamAuditRequest request, TrailReading.Reader reader,
      ServerCallStreamObserver<StreamAuditResponse> out, Rpcs rpcs) {
    try {
      AuditFilter filter = streamFilter(request);
      // from_checkpoints is named only when set, so tokens issued before it existed still resume
      String canonical = filter.canonical() + "|follow=" + request.getFollow()
          + (request.getFromCheckpoints() ? "|from_checkpoints=true" : "");
      StreamPosition from = request.getResumeToken().isEmpty() ? StreamPosition.START
          : resumePosition(pageTokens.decodeAny(PageTokens.TokenField.RESUME_TOKEN, STREAM_SCOPE, canonical,
              request.getResumeToken()));
      // used only by the stream's sending thread
      PageTokens.BinarySealer resumeTokens = pageTokens.binarySealer(STREAM_SCOPE, canonical);
      TrailReading.OpenStream open = trail.openStream(filter, from, request.getFromCheckpoints(), reader);
      try {
        new AuditStreamSender(open.stream(), request.getFollow(),
            delivery -> StreamAuditResponse.newBuilder().setEvent(ProtoMapper.event(delivery.event()))
                .setResumeToken(resumeTokens.seal(delivery.position().toBytes())).build(),
            open.standing(), denial -> trail.streamEnded(reader, denial), open.slot(), out, rpcs).start();
      } catch (RuntimeException | Error e) {
        // the slot is the sender's from start(); one it never got must not stay taken
        open.slot().close();
        throw e;
      }
    } catch (RuntimeException e) {
      out.onError(new io.grpc.StatusRuntimeException(rpcs.toStatus(e)));
    }
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

  SummarizeAuditResponse summarize(SummarizeAuditRequest request, TrailReading.Reader reader) {
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
    List<AuditSummary.Row> rows = trail.summarize(new AuditSummary.Query(filter, dimensions, bucket),
        request.getLimit(), reader);
    SummarizeAuditResponse.Builder response = SummarizeAuditResponse.newBuilder();
    for (AuditSummary.Row row : rows) {
      SummaryRow.Builder proto = row.other() ? SummaryRow.newBuilder().setOther(true).setCount(row.count())
          : SummaryRow.newBuilder().addAllKeys(row.keys()).setCount(row.count());
      row.bucketStart().or(filter::start).ifPresent(b -> proto.setBucketStart(ProtoMapper.timestamp(b)));
      response.addRows(proto);
    }
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

  private static void requireOrdered(Optional<Instant> start, Optional<Instant> end) {
    if (start.isPresent() && end.isPresent() && !start.get().isBefore(end.get())) {
      throw ServiceException.invalid("start_time must be before end_time");
    }
  }

  static AuditFilter filter(QueryAuditRequest request) {
    AuditFilter filter = filter(request.getTypesList(), request.getOutcome(), request.getUsername(),
        request.getClientIp(), request.getTokenId(), request.hasStartTime(), request.getStartTime(),
        request.hasEndTime(), request.getEndTime());
    String traceId = request.getTraceId();
    if (traceId.isEmpty()) {
      return filter;
    }
    if (!TraceParent.isTraceId(traceId)) {
      throw ServiceException.invalid("trace_id must be a W3C trace id: 32 lowercase hex digits, not all zeros");
    }
    return new AuditFilter(filter.types(), filter.username(), filter.outcome(), filter.start(), filter.end(),
        filter.clientIp(), filter.tokenId(), Optional.of(traceId));
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
      throw ServiceException.invalid(PageTokens.TokenField.PAGE_TOKEN.notValid());
    }
    try {
      return new AuditPosition(Instant.ofEpochMilli(Long.parseLong(position.get(0))), position.get(1));
    } catch (NumberFormatException e) {
      throw ServiceException.invalid(PageTokens.TokenField.PAGE_TOKEN.notValid());
    }
  }
}
