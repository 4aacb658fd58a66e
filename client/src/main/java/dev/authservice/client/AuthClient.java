package dev.authservice.client;

import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.RunReviewRequest;
import dev.authservice.proto.auth.v1.RunReviewResponse;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.SummarizeAuditResponse;
import dev.authservice.proto.auth.v1.GetAuditKeysRequest;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsRequest;
import dev.authservice.proto.auth.v1.ListAuditCheckpointsResponse;
import dev.authservice.proto.auth.v1.StreamAuditRequest;
import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.ListUsersRequest;
import dev.authservice.proto.auth.v1.ListUsersResponse;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.QueryAuditResponse;
import dev.authservice.proto.auth.v1.RefreshRequest;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateAuditSigningKeyResponse;
import dev.authservice.proto.auth.v1.RefreshResponse;
import dev.authservice.proto.auth.v1.RevokeRequest;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateSigningKeyResponse;
import dev.authservice.proto.auth.v1.TokenTypeHint;
import dev.authservice.proto.auth.v1.UnlockUserRequest;
import dev.authservice.proto.auth.v1.User;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A small client for the auth service. Each call gets its own deadline; failures surface as
 * {@link StatusRuntimeException} with the server's status and message.
 *
 * <pre>{@code
 * try (AuthClient client = AuthClient.builder().target("127.0.0.1:50051").plaintext().build()) {
 *   LoginResponse login = client.login("alice", password, "");
 *   ValidateResponse answer = client.validate(login.getAccessToken(), "");
 * }
 * }</pre>
 *
 * <p>Instances are thread-safe. {@link #withBearerToken} returns a client sharing the channel;
 * closing any of them closes the channel only if this client created it.
 */
public final class AuthClient implements AutoCloseable {
  /**
   * StreamAudit messages asked for ahead of the reader: at most this many wait in memory for a
   * slow reader.
   */
  static final int STREAM_WINDOW = 256;
  /**
   * The largest StreamAudit message taken: an event with the most a server writes (an alert with
   * 100 evidence ids, a 256-character user agent, a 512-character certificate subject) and its
   * resume token come to under 8 KiB. With the window this bounds what a hostile server, or anyone
   * between in plaintext, can make a stalled reader hold to 16 MiB on the wire, which decodes to at
   * most a few hundred MiB of objects (against a GiB of wire without it); a larger message ends the
   * stream with RESOURCE_EXHAUSTED.
   */
  static final int STREAM_MESSAGE_LIMIT = 64 * 1024;

  private final ManagedChannel channel;
  private final boolean ownsChannel;
  /** The channel was built here, not given: it has no interceptors of the caller's. */
  private final boolean builtChannel;
  private final boolean plaintext;
  private final Duration deadline;
  private final Optional<BearerToken> credentials;

  private AuthClient(ManagedChannel channel, boolean ownsChannel, boolean builtChannel, boolean plaintext,
      Duration deadline, Optional<BearerToken> credentials) {
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    this.builtChannel = builtChannel;
    this.plaintext = plaintext;
    this.deadline = deadline;
    this.credentials = credentials;
  }

  /** Starts building a client. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds an {@link AuthClient}. */
  public static final class Builder {
    private String target = "127.0.0.1:50051";
    private boolean plaintext;
    private Duration deadline = Duration.ofSeconds(10);
    private String bearerToken;
    private ManagedChannel channel;

    private Builder() {}

    /** {@code host:port} of the server; default {@code 127.0.0.1:50051}. */
    public Builder target(String hostAndPort) {
      this.target = Objects.requireNonNull(hostAndPort);
      return this;
    }

    /** Connects without TLS (loopback or a trusted sidecar only); bearer tokens are then sent in the clear. */
    public Builder plaintext() {
      this.plaintext = true;
      return this;
    }

    /** Connects with TLS, trusting the system's certificate authorities (the default). */
    public Builder tls() {
      this.plaintext = false;
      return this;
    }

    /** Deadline applied to each call; default 10 seconds. */
    public Builder deadline(Duration perCall) {
      if (perCall.isNegative() || perCall.isZero()) {
        throw new IllegalArgumentException("deadline must be positive");
      }
      this.deadline = perCall;
      return this;
    }

    /** An access token to send as {@code authorization: Bearer} on every call. */
    public Builder bearerToken(String token) {
      this.bearerToken = token;
      return this;
    }

    /**
     * Uses an existing channel (for custom TLS or interceptors) instead of creating one; the
     * client will not close it. {@code plaintext} says whether tokens may be sent over it
     * without TLS.
     */
    public Builder channel(ManagedChannel existing, boolean plaintext) {
      this.channel = existing;
      this.plaintext = plaintext;
      return this;
    }

    public AuthClient build() {
      boolean owns = channel == null;
      ManagedChannel ch = channel;
      if (owns) {
        NettyChannelBuilder b = NettyChannelBuilder.forTarget(target);
        ch = (plaintext ? b.usePlaintext() : b.useTransportSecurity()).build();
      }
      Optional<BearerToken> creds = Optional.ofNullable(bearerToken).filter(t -> !t.isBlank())
          .map(t -> new BearerToken(t, plaintext));
      return new AuthClient(ch, owns, owns, plaintext, deadline, creds);
    }
  }

  /** A client on the same channel that sends this access token with every call. */
  public AuthClient withBearerToken(String token) {
    return new AuthClient(channel, false, builtChannel, plaintext, deadline,
        Optional.of(new BearerToken(token, plaintext)));
  }

  /** Logs in; an empty audience means the server's default. */
  public LoginResponse login(String username, String password, String audience) {
    return auth().login(LoginRequest.newBuilder().setUsername(username).setPassword(password)
        .setAudience(audience == null ? "" : audience).build());
  }

  /** Exchanges a refresh token for new tokens; the one passed in is used up. */
  public RefreshResponse refresh(String refreshToken) {
    return auth().refresh(RefreshRequest.newBuilder().setRefreshToken(refreshToken).build());
  }

  /** Revokes an access or refresh token (RFC 7009: unknown tokens are not an error). */
  public void revoke(String token, TokenTypeHint hint) {
    auth().revoke(RevokeRequest.newBuilder().setToken(token).setTokenTypeHint(hint).build());
  }

  /** Asks whether a token is active; an empty audience means the server's default. */
  public ValidateResponse validate(String token, String audience) {
    return auth().validate(ValidateRequest.newBuilder().setToken(token)
        .setAudience(audience == null ? "" : audience).build());
  }

  /** The public keys that verify access tokens, as RFC 7517 JWK Set JSON. */
  public String jwks() {
    return auth().getJwks(GetJwksRequest.getDefaultInstance()).getKeysJson();
  }

  /** One page of audit events (needs a bearer token with role auditor or admin). */
  public QueryAuditResponse queryAudit(QueryAuditRequest request) {
    return auth().queryAudit(request);
  }

  /** Every matching audit event, newest first, fetching further pages lazily as the stream is consumed. */
  public Stream<AuditEvent> queryAuditAll(QueryAuditRequest request) {
    return pages(token -> {
      QueryAuditResponse page = queryAudit(request.toBuilder().setPageToken(token).build());
      return new Page<>(page.getEventsList(), page.getNextPageToken());
    });
  }

  /** Checks the trail's hash chains against its signed checkpoints (needs role auditor or admin). */
  public VerifyAuditResponse verifyAudit(VerifyAuditRequest request) {
    return auth().verifyAudit(request);
  }

  /** The public keys that verify audit checkpoints, as RFC 7517 JWK Set JSON (no credentials needed). */
  public String auditKeys() {
    return auth().getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysJson();
  }

  /** Every signed checkpoint in the request's time range, oldest first, paging lazily (role auditor or admin). */
  public Stream<AuditCheckpoint> auditCheckpoints(ListAuditCheckpointsRequest request) {
    return pages(token -> {
      ListAuditCheckpointsResponse page = auth().listAuditCheckpoints(request.toBuilder().setPageToken(token).build());
      return new Page<>(page.getCheckpointsList(), page.getNextPageToken());
    });
  }

  /**
   * Streams matching events oldest first, each with a resume token (role auditor or admin).
   * The stream is read as it is consumed, {@value #STREAM_WINDOW} events ahead at most, so a slow
   * consumer slows the server instead of filling memory. Always close the returned stream
   * (try-with-resources): until then the call holds one of the caller's stream slots on the
   * server and its buffered events, and with {@code follow} it has no deadline of its own. Closing
   * it from another thread ends a read waiting on it with CANCELLED.
   */
  public Stream<StreamAuditResponse> streamAudit(StreamAuditRequest request) {
    AuthServiceGrpc.AuthServiceStub stub = AuthServiceGrpc.newStub(channel)
        .withMaxInboundMessageSize(STREAM_MESSAGE_LIMIT);
    if (builtChannel) {
      // callbacks on the transport's thread: they only hand each message to the reader's queue.
      // Not on a channel the caller gave: its interceptors' callbacks would run there too
      stub = stub.withExecutor(Runnable::run);
    }
    stub = credentials.map(stub::withCallCredentials).orElse(stub);
    if (!request.getFollow()) {
      stub = stub.withDeadlineAfter(Math.max(deadline.toMillis(), Duration.ofMinutes(30).toMillis()),
          TimeUnit.MILLISECONDS);
    }
    StreamedResponses<StreamAuditRequest, StreamAuditResponse> responses = new StreamedResponses<>(STREAM_WINDOW);
    // closing the stream cancels this context, which any thread may do (the call itself is
    // touched by the reading thread only); a read waiting on it then ends with CANCELLED
    io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
    io.grpc.Context previous = call.attach();
    try {
      stub.streamAudit(request, responses);
    } finally {
      call.detach(previous);
    }
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(responses, Spliterator.ORDERED), false)
        .onClose(() -> call.cancel(null));
  }

  /** Counts events by time bucket and dimensions (needs role auditor or admin). */
  public SummarizeAuditResponse summarizeAudit(SummarizeAuditRequest request) {
    return auth().summarizeAudit(request);
  }

  /** Runs the suspicious-activity review over a window now; returns its alerts (needs role admin). */
  public RunReviewResponse runReview(RunReviewRequest request) {
    return auth().runReview(request);
  }

  /** Creates an account (needs role admin). */
  public User createUser(String username, String password, List<String> roles) {
    return users().createUser(CreateUserRequest.newBuilder().setUsername(username).setPassword(password)
        .addAllRoles(roles).build()).getUser();
  }

  /** Disables an account and ends its tokens (needs role admin). */
  public User disableUser(String username) {
    return users().disableUser(DisableUserRequest.newBuilder().setUsername(username).build()).getUser();
  }

  /** Clears login throttling and lockout of an account (needs role admin). */
  public User unlockUser(String username) {
    return users().unlockUser(UnlockUserRequest.newBuilder().setUsername(username).build()).getUser();
  }

  /** Every account in username order, paging lazily (needs role admin). */
  public Stream<User> listUsers(int pageSize) {
    return pages(token -> {
      ListUsersResponse page = users().listUsers(ListUsersRequest.newBuilder().setPageSize(pageSize)
          .setPageToken(token).build());
      return new Page<>(page.getUsersList(), page.getNextPageToken());
    });
  }

  /** Makes a new signing key active (needs role admin). */
  public RotateSigningKeyResponse rotateSigningKey() {
    return prepared(KeyAdminServiceGrpc.newBlockingStub(channel))
        .rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
  }

  /** Makes a new audit checkpoint signing key active; earlier ones keep verifying (needs role admin). */
  public RotateAuditSigningKeyResponse rotateAuditSigningKey() {
    return prepared(KeyAdminServiceGrpc.newBlockingStub(channel))
        .rotateAuditSigningKey(RotateAuditSigningKeyRequest.getDefaultInstance());
  }

  private AuthServiceGrpc.AuthServiceBlockingStub auth() {
    return prepared(AuthServiceGrpc.newBlockingStub(channel));
  }

  private UserAdminServiceGrpc.UserAdminServiceBlockingStub users() {
    return prepared(UserAdminServiceGrpc.newBlockingStub(channel));
  }

  /** Credentials, and a deadline that starts now: stubs are made per call. */
  private <S extends AbstractStub<S>> S prepared(S stub) {
    S withCredentials = credentials.map(stub::withCallCredentials).orElse(stub);
    return withCredentials.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  private record Page<T>(List<T> items, String nextPageToken) {}

  private static <T> Stream<T> pages(Function<String, Page<T>> fetch) {
    Iterator<T> items = new Iterator<>() {
      private Iterator<T> current = List.<T>of().iterator();
      private String next = "";
      private boolean started;

      @Override
      public boolean hasNext() {
        while (!current.hasNext()) {
          if (started && next.isEmpty()) {
            return false;
          }
          Page<T> page = fetch.apply(next);
          started = true;
          current = page.items().iterator();
          next = page.nextPageToken();
        }
        return true;
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(items, Spliterator.ORDERED), false);
  }

  /** Closes the channel if this client created it, waiting up to five seconds. */
  @Override
  public void close() {
    if (ownsChannel) {
      channel.shutdown();
      try {
        if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
          channel.shutdownNow();
        }
      } catch (InterruptedException e) {
        channel.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
