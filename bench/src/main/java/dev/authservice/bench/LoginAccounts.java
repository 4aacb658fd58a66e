package dev.authservice.bench;

import com.google.common.util.concurrent.ListenableFuture;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Logins spread over as many accounts as there are calls in flight, as logins from many users
 * arrive. One account's logins take turns on an instance (the throttle's per-account turns), so
 * logins of a single account measure that turn, not the server's login capacity.
 */
final class LoginAccounts {
  private static final String PASSWORD = "bench-Login-pass-1";

  private LoginAccounts() {}

  /** Creates {@code accounts} users (as the admin whose access token is given) and returns a call logging in each in turn. */
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
    return i -> auth.login(requests.get(i % requests.size()));
  }
}
