package dev.authservice.server.grpc;

import dev.authservice.server.usecase.TrailReading;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.QueryAuditResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import dev.authservice.proto.auth.v1.GetAuditKeysRequest;
import dev.authservice.proto.auth.v1.GetAuditKeysResponse;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsResponse;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.core.Caller;
import dev.authservice.server.core.ServiceException;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.GetJwksResponse;
import dev.authservice.proto.auth.v1.RefreshRequest;
import dev.authservice.proto.auth.v1.RefreshResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.RevokeResponse;
import dev.authservice.proto.auth.v1.TokenTypeHint;
import dev.authservice.server.usecase.LoginService;
import dev.authservice.server.keys.JwkSet;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.usecase.ValidationService;
import dev.authservice.server.token.Verification;
import dev.authservice.server.token.VerifiedToken;
import dev.authservice.server.user.UserService;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.proto.auth.v1.RunReviewRequest;
import dev.authservice.proto.auth.v1.RunReviewResponse;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.SummarizeAuditResponse;
import dev.authservice.server.review.ReviewWindow;
import dev.authservice.server.review.SuspiciousActivityReview;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import io.grpc.stub.StreamObserver;

/** auth.v1.AuthService: maps messages to the token, user and audit capabilities and back. */
final class AuthServiceImpl extends AuthServiceGrpc.AuthServiceImplBase {

  private final LoginService logins;
  private final ValidationService validation;
  private final JwkSet jwks;
  private final AuditTrailRpcs trail;
  private final AuditSigner auditKeys;
  private final SuspiciousActivityReview review;
  private final Clock clock;
  private final Rpcs rpcs;
  private static final Duration MAX_REVIEW_WINDOW = Duration.ofDays(31);

  AuthServiceImpl(LoginService logins, ValidationService validation, JwkSet jwks, AuditTrailRpcs trail,
      AuditSigner auditKeys, SuspiciousActivityReview review, Clock clock, Rpcs rpcs) {
    this.logins = logins;
    this.validation = validation;
    this.jwks = jwks;
    this.trail = trail;
    this.auditKeys = auditKeys;
    this.review = review;
    this.clock = clock;
    this.rpcs = rpcs;
  }

  @Override
  public void login(LoginRequest request, StreamObserver<LoginResponse> observer) {
    rpcs.unary(observer, () -> login(request, CallContext.caller()));
  }

  private LoginResponse login(LoginRequest request, Caller caller) {
    LoginService.Tokens tokens = logins.login(request.getUsername(), request.getPassword(), request.getAudience(),
        caller);
    return LoginResponse.newBuilder()
        .setAccessToken(tokens.access().accessToken())
        .setTokenType("Bearer")
        .setExpiresAt(ProtoMapper.timestamp(tokens.access().expiresAt()))
        .setTokenId(tokens.access().tokenId())
        .setRefreshToken(tokens.refresh().refreshToken())
        .setRefreshExpiresAt(ProtoMapper.timestamp(tokens.refresh().record().expiresAt()))
        .build();
  }

  @Override
  public void refresh(RefreshRequest request, StreamObserver<RefreshResponse> observer) {
    rpcs.unary(observer, () -> {
      LoginService.Tokens tokens = logins.refresh(request.getRefreshToken(), CallContext.caller());
      return RefreshResponse.newBuilder()
          .setAccessToken(tokens.access().accessToken())
          .setTokenType("Bearer")
          .setExpiresAt(ProtoMapper.timestamp(tokens.access().expiresAt()))
          .setTokenId(tokens.access().tokenId())
          .setRefreshToken(tokens.refresh().refreshToken())
          .setRefreshExpiresAt(ProtoMapper.timestamp(tokens.refresh().record().expiresAt()))
          .build();
    });
  }

  @Override
  public void revoke(RevokeRequest request, StreamObserver<RevokeResponse> observer) {
    rpcs.unary(observer, () -> {
      logins.revoke(request.getToken(), request.getTokenTypeHint() == TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN,
          CallContext.caller());
      return RevokeResponse.getDefaultInstance();
    });
  }

  @Override
  public void getJwks(GetJwksRequest request, StreamObserver<GetJwksResponse> observer) {
    rpcs.unary(observer, () -> GetJwksResponse.newBuilder().setKeysJson(jwks.json()).build());
  }

  @Override
  public void validate(ValidateRequest request, StreamObserver<ValidateResponse> observer) {
    rpcs.unary(observer, () -> validate(request, CallContext.caller()));
  }

  private ValidateResponse validate(ValidateRequest request, Caller caller) {
    Verification verification = validation.validate(request.getToken(), request.getAudience(), caller);
    if (verification.failure().isPresent()) {
      return ValidateResponse.newBuilder()
          .setActive(false)
          .setFailure(ProtoMapper.failure(verification.failure().get()))
          .build();
    }
    VerifiedToken verified = verification.token().orElseThrow();
    return ValidateResponse.newBuilder()
        .setActive(true)
        .setSubject(verified.subject())
        .setUsername(verified.username())
        .addAllRoles(verified.roles())
        .setTokenId(verified.tokenId())
        .setIssuer(verified.issuer())
        .addAllAudience(verified.audience())
        .setIssuedAt(ProtoMapper.timestamp(verified.issuedAt()))
        .setExpiresAt(ProtoMapper.timestamp(verified.expiresAt()))
        .build();
  }

  @Override
  public void queryAudit(QueryAuditRequest request, StreamObserver<QueryAuditResponse> observer) {
    rpcs.unary(observer, () -> trail.queryAudit(request, reader()));
  }

  @Override
  public void verifyAudit(VerifyAuditRequest request, StreamObserver<VerifyAuditResponse> observer) {
    rpcs.unary(observer, () -> trail.verifyAudit(request, reader()));
  }

  @Override
  public void listAuditCheckpoints(ListAuditCheckpointsRequest request,
      StreamObserver<ListAuditCheckpointsResponse> observer) {
    rpcs.unary(observer, () -> trail.listCheckpoints(request, reader()));
  }

  @Override
  public void streamAudit(StreamAuditRequest request, StreamObserver<StreamAuditResponse> observer) {
    trail.streamAudit(request, reader(), (ServerCallStreamObserver<StreamAuditResponse>) observer, rpcs);
  }

  @Override
  public void summarizeAudit(SummarizeAuditRequest request, StreamObserver<SummarizeAuditResponse> observer) {
    rpcs.unary(observer, () -> trail.summarize(request, reader()));
  }

  @Override
  public void runReview(RunReviewRequest request, StreamObserver<RunReviewResponse> observer) {
    rpcs.unary(observer, () -> {
      // the trail keeps milliseconds: compared as the review will use them, so that two times
      // within one millisecond are refused here, not by the window as an internal error
      Optional<Instant> start = ProtoMapper.optionalInstant(request.hasStartTime(), request.getStartTime(), "start_time")
          .map(ProtoMapper::millis);
      Optional<Instant> end = ProtoMapper.optionalInstant(request.hasEndTime(), request.getEndTime(), "end_time")
          .map(ProtoMapper::millis);
      if (start.isPresent() != end.isPresent()) {
        throw ServiceException.invalid("give both start_time and end_time, or neither for the previous UTC day");
      }
      if (start.isPresent() && !start.get().isBefore(end.get())) {
        throw ServiceException.invalid("start_time must be before end_time, by at least a millisecond");
      }
      if (start.isPresent() && Duration.between(start.get(), end.get()).compareTo(MAX_REVIEW_WINDOW) > 0) {
        throw ServiceException.invalid("a review window is at most " + MAX_REVIEW_WINDOW.toDays() + " days");
      }
      ReviewWindow window = start.isPresent() ? new ReviewWindow(start.get(), end.get())
          : ReviewWindow.previousDay(clock.instant());
      VerifiedToken principal = CallContext.principal();
      RunReviewResponse.Builder response = RunReviewResponse.newBuilder();
      review.review(window, new SuspiciousActivityReview.Requester(AuthServiceGrpc.getRunReviewMethod()
          .getFullMethodName(), principal.username())).forEach(a -> response.addAlerts(ProtoMapper.event(a)));
      return response.build();
    });
  }

  @Override
  public void getAuditKeys(GetAuditKeysRequest request, StreamObserver<GetAuditKeysResponse> observer) {
    rpcs.unary(observer, () -> GetAuditKeysResponse.newBuilder().setKeysJson(auditKeys.jwkSetJson()).build());
  }

  private static TrailReading.Reader reader() {
    return new TrailReading.Reader(CallContext.caller(), CallContext.principal());
  }
}
