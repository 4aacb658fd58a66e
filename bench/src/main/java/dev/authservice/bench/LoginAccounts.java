package dev.authservice.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.common.util.concurrent.SettableFuture;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Logins spread over as many accounts as there are calls in flight, as logins from many users
 * arrive: each call takes an account no other call in flight is using, and gives it back once
 * answered. One account's logins take turns on an instance (the throttle's per-account turns), so
 * two calls in flight on one account would measure that turn, not the server's login capacity
 * (picking the account by call number did that whenever answers came back out of order).
 */
final class LoginAccounts {
  private static final String PASSWORD = "bench-Login-pass-1";

  private LoginAccounts() {}

  /**
   * Creates {@code accounts} users (as the admin whose access token is given) and returns a call
   * logging in one not in flight; at most {@code accounts} calls may be in flight at once.
   */
  static IntFunction<ListenableFuture<?>> logins(ManagedChannel channel, String adminAccessToken, int accounts) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + adminAccessToken);
    UserAdminServiceGrpc.UserAdminServiceBlockingStub admin = UserAdminServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    String prefix = "bench-login-" + UUID.randomUUID().toString().substring(0, 6) + "-";
    List<LoginRequest> requests = new ArrayList<>();
    for (int i = 0; i < accounts; i++) {
      String username = prefix + i;
      admin.withDeadlineAfter(30, TimeUnit.SECONDS).createUser(CreateUserRequest.newBuilder()
          .setUsername(username).setPassword(PASSWORD).build());
      requests.add(LoginRequest.newBuilder().setUsername(username).setPassword(PASSWORD).build());
    }
    AuthServiceGrpc.AuthServiceFutureStub auth = AuthServiceGrpc.newFutureStub(channel);
    BlockingQueue<LoginRequest> idle = new ArrayBlockingQueue<>(accounts, false, requests);
    return i -> {
      LoginRequest request = idle.poll();
      if (request == null) {
        throw new IllegalStateException("more logins in flight than accounts (" + accounts + ")");
      }
      ListenableFuture<LoginResponse> login;
      try {
        login = auth.login(request);
      } catch (RuntimeException e) {
        idle.add(request);
        throw e;
      }
      // the account is idle again before the caller sees the answer and sends its next call
      SettableFuture<LoginResponse> answered = SettableFuture.create();
      login.addListener(() -> {
        idle.add(request);
        answered.setFuture(login);
      }, MoreExecutors.directExecutor());
      return answered;
    };
  }
}
