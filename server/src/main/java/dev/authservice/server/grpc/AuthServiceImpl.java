package dev.authservice.server.grpc;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.QueryAuditResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditFilter;
import dev.authservice.server.audit.AuditLog;
import dev.authservice.server.audit.AuditPosition;
import dev.authservice.server.audit.AuditStore;
import dev.authservice.server.audit.Caller;
import dev.authservice.server.error.ServiceException;
import dev.authservice.server.paging.PageTokens;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.GetJwksResponse;
import dev.authservice.proto.auth.v1.RefreshRequest;
import dev.authservice.proto.auth.v1.RefreshResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.RevokeResponse;
import dev.authservice.proto.auth.v1.TokenTypeHint;
import dev.authservice.server.login.LoginService;
import dev.authservice.server.token.JwkSet;
import dev.authservice.server.token.TokenVerifier;
import dev.authservice.server.token.ValidationService;
import dev.authservice.server.token.Verification;
import dev.authservice.server.token.VerifiedToken;
import dev.authservice.server.user.UserService;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** auth.v1.AuthService: maps messages to the token, user and audit capabilities and back. */
final class AuthServiceImpl extends AuthServiceGrpc.AuthServiceImplBase {
  private static final int MAX_REFRESH_TOKEN_LENGTH = 256;
  private static final String QUERY_AUDIT_SCOPE = "auth.v1.AuthService/QueryAudit";
  private static final int MAX_AUDIENCE_LENGTH = 256;
  private static final int MAX_FILTER_LENGTH = 256;

  private final LoginService logins;
  private final ValidationService validation;
  private final JwkSet jwks;
  private final AuditLog audit;
  private final AuditStore auditStore;
  private final PageTokens pageTokens;
  private final AudiencePolicy audiences;
  private final Rpcs rpcs;

  AuthServiceImpl(LoginService logins, ValidationService validation, JwkSet jwks, AuditLog audit,
      AuditStore auditStore, PageTokens pageTokens, AudiencePolicy audiences, Rpcs rpcs) {
    this.logins = logins;
    this.validation = validation;
    this.jwks = jwks;
    this.audit = audit;
    this.auditStore = auditStore;
    this.pageTokens = pageTokens;
    this.audiences = audiences;
    this.rpcs = rpcs;
  }

  @Override
  public void login(LoginRequest request, StreamObserver<LoginResponse> observer) {
    rpcs.unary(observer, () -> login(request, CallContext.caller()));
  }

  private LoginResponse login(LoginRequest request, Caller caller) {
    String username = request.getUsername();
    String invalid = invalidLogin(request);
    if (invalid != null) {
      audit.event(AuditEventType.LOGIN, caller)
          .username(username.length() <= UserService.MAX_USERNAME_LENGTH ? username : "")
          .failure("invalid_argument");
      throw ServiceException.invalid(invalid);
    }
    String audience = request.getAudience().isEmpty() ? audiences.defaultAudience() : request.getAudience();
    LoginService.Tokens tokens = logins.login(username, request.getPassword(), audience, caller);
    return LoginResponse.newBuilder()
        .setAccessToken(tokens.access().accessToken())
        .setTokenType("Bearer")
        .setExpiresAt(ProtoMapper.timestamp(tokens.access().expiresAt()))
        .setTokenId(tokens.access().tokenId())
        .setRefreshToken(tokens.refresh().refreshToken())
        .setRefreshExpiresAt(ProtoMapper.timestamp(tokens.refresh().record().expiresAt()))
        .build();
  }

  private String invalidLogin(LoginRequest request) {
    if (request.getUsername().isEmpty()) {
      return "username must not be empty";
    }
    if (request.getUsername().length() > UserService.MAX_USERNAME_LENGTH) {
      return "username must be at most " + UserService.MAX_USERNAME_LENGTH + " characters";
    }
    if (request.getPassword().isEmpty()) {
      return "password must not be empty";
    }
    if (request.getPassword().length() > UserService.MAX_PASSWORD_LENGTH) {
      return "password must be at most " + UserService.MAX_PASSWORD_LENGTH + " characters";
    }
    if (request.getAudience().length() > MAX_AUDIENCE_LENGTH) {
      return "audience must be at most " + MAX_AUDIENCE_LENGTH + " characters";
    }
    if (!request.getAudience().isEmpty() && !audiences.allowed(request.getAudience())) {
      return "audience '" + request.getAudience() + "' is not one this server issues tokens for"
          + " (see AUTH_AUDIENCE and AUTH_ALLOWED_AUDIENCES)";
    }
    return null;
  }

  @Override
  public void refresh(RefreshRequest request, StreamObserver<RefreshResponse> observer) {
    rpcs.unary(observer, () -> {
      Caller caller = CallContext.caller();
      String token = request.getRefreshToken();
      if (token.isEmpty() || token.length() > MAX_REFRESH_TOKEN_LENGTH) {
        audit.event(AuditEventType.TOKEN_REFRESH, caller).failure("invalid_argument");
        throw ServiceException.invalid(token.isEmpty() ? "refresh_token must not be empty"
            : "refresh_token must be at most " + MAX_REFRESH_TOKEN_LENGTH + " characters");
      }
      LoginService.Tokens tokens = logins.refresh(token, caller);
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
      Caller caller = CallContext.caller();
      String token = request.getToken();
      if (token.isEmpty() || token.length() > TokenVerifier.MAX_TOKEN_LENGTH) {
        audit.event(AuditEventType.TOKEN_REVOKE, caller).failure("invalid_argument");
        throw ServiceException.invalid(token.isEmpty() ? "token must not be empty"
            : "token must be at most " + TokenVerifier.MAX_TOKEN_LENGTH + " bytes");
      }
      logins.revoke(token, request.getTokenTypeHint() == TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN, caller);
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
    String token = request.getToken();
    if (token.isEmpty() || token.length() > TokenVerifier.MAX_TOKEN_LENGTH
        || request.getAudience().length() > MAX_AUDIENCE_LENGTH) {
      audit.event(AuditEventType.TOKEN_VALIDATE, caller).failure("invalid_argument");
      throw ServiceException.invalid(token.isEmpty() ? "token must not be empty"
          : token.length() > TokenVerifier.MAX_TOKEN_LENGTH
              ? "token must be at most " + TokenVerifier.MAX_TOKEN_LENGTH + " bytes"
              : "audience must be at most " + MAX_AUDIENCE_LENGTH + " characters");
    }
    Verification verification = validation.validate(token, request.getAudience(), caller);
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
    rpcs.unary(observer, () -> queryAudit(request, CallContext.caller(), CallContext.principal()));
  }

  private QueryAuditResponse queryAudit(QueryAuditRequest request, Caller caller, VerifiedToken principal) {
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
    audit.event(AuditEventType.AUDIT_QUERY, caller).username(principal.username())
        .subject(principal.subject()).tokenId(principal.tokenId()).success();
    return response.build();
  }

  private static AuditFilter filter(QueryAuditRequest request) {
    Set<dev.authservice.server.audit.AuditEventType> types = new LinkedHashSet<>();
    request.getTypesList().forEach(t -> types.add(ProtoMapper.domainType(t)));
    Optional<Instant> start = ProtoMapper.optionalInstant(request.hasStartTime(), request.getStartTime(), "start_time");
    Optional<Instant> end = ProtoMapper.optionalInstant(request.hasEndTime(), request.getEndTime(), "end_time");
    if (start.isPresent() && end.isPresent() && !start.get().isBefore(end.get())) {
      throw ServiceException.invalid("start_time must be before end_time");
    }
    return new AuditFilter(types,
        exact(request.getUsername(), "username"),
        ProtoMapper.domainOutcome(request.getOutcome()),
        start.map(ProtoMapper::millis), end.map(ProtoMapper::millis),
        exact(request.getClientIp(), "client_ip"),
        exact(request.getTokenId(), "token_id"));
  }

  private static Optional<String> exact(String value, String field) {
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
