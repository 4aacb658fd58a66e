package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.GetJwksRequest;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The token keys load (on a first start: an RSA key is generated) beside the rest of the start.
 * However long that takes, nothing listens before they are there: no Login, Validate or JWK Set
 * is ever answered without its key.
 */
class TokenKeysAtStartTest {
  @TempDir Path dataDir;

  @Test
  void nothingListensUntilTheTokenKeysAreLoaded() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    CountDownLatch keyMayLoad = new CountDownLatch(1);
    CountDownLatch keyLoadAsked = new CountDownLatch(1);
    // the key generation of a slow machine: held until the test lets it go
    Executor slowKeys = task -> Thread.ofPlatform().daemon(true).start(() -> {
      keyLoadAsked.countDown();
      try {
        keyMayLoad.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      task.run();
    });
    ServerConfig config = ServerConfig.builder(dataDir).mongoUri(Optional.empty()).port(port)
        .hashParams(TestServer.TEST_HASH)
        .bootstrapAdmin(Optional.of(TestServer.ADMIN), Optional.of(TestServer.ADMIN_PASSWORD))
        .build();
    AtomicReference<AuthServer> started = new AtomicReference<>();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread starter = Thread.ofPlatform().start(() -> {
      try {
        started.set(AuthServer.start(config, Clock.systemUTC(), slowKeys));
      } catch (Throwable e) {
        failed.set(e);
      }
    });
    try {
      assertTrue(keyLoadAsked.await(60, TimeUnit.SECONDS), "the start asks for the token keys");
      // the start goes as far as it can without the keys: it ends, or waits for them for good
      Await.until("the start to finish, or to wait for the token keys (it neither did)", 60,
          () -> !starter.isAlive() || starter.getState() == Thread.State.WAITING && waitingForKeys(starter));
      assertFalse(listening(port), "nothing listens while the token keys are not loaded");
      assertNull(started.get(), "the start has not returned without the token keys");

      keyMayLoad.countDown();
      starter.join(TimeUnit.SECONDS.toMillis(60));
      assertNull(failed.get(), () -> "the start failed: " + failed.get());
      AuthServer server = started.get();
      assertNotNull(server, "the start returns once the keys are there");
      try {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        try {
          AuthServiceGrpc.AuthServiceBlockingStub auth = AuthServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(30, TimeUnit.SECONDS);
          LoginResponse login = auth.login(LoginRequest.newBuilder().setUsername(TestServer.ADMIN)
              .setPassword(TestServer.ADMIN_PASSWORD).build());
          assertTrue(auth.validate(ValidateRequest.newBuilder().setToken(login.getAccessToken()).build()).getActive(),
              "the first token validates");
          String header = new String(Base64.getUrlDecoder().decode(login.getAccessToken().split("\\.")[0]),
              StandardCharsets.UTF_8);
          String kid = header.replaceAll(".*\"kid\"\\s*:\\s*\"([^\"]+)\".*", "$1");
          assertTrue(auth.getJwks(GetJwksRequest.getDefaultInstance()).getKeysJson().contains("\"" + kid + "\""),
              "the JWK Set publishes the key that signed the first token");
        } finally {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
      } finally {
        server.close();
      }
    } finally {
      keyMayLoad.countDown();
      starter.join(TimeUnit.SECONDS.toMillis(60));
    }
  }

  private static boolean waitingForKeys(Thread thread) {
    for (StackTraceElement frame : thread.getStackTrace()) {
      if (frame.getMethodName().equals("awaitTokenKeys")) {
        return true;
      }
    }
    return false;
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException refused) {
      return false;
    }
  }
}
