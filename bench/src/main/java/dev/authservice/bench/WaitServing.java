package dev.authservice.bench;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Waits until the server reports SERVING; prints the milliseconds since the server was launched,
 * or, with {@code --ready-file}, the wall-clock time it answered SERVING (epoch ms).
 */
@Command(name = "wait-serving", description = "Wait for health SERVING and print the time since launch.")
final class WaitServing implements Callable<Integer> {
  @Option(names = "--target", defaultValue = "127.0.0.1:50051") String target;
  @Option(names = "--launched-at-ms", description = "When the server process was started (epoch ms).")
  Long launchedAt;
  @Option(names = "--ready-file", description = "Warm this probe up on a health service of its own first, then "
      + "create this file and wait; print the epoch ms at which the target answered SERVING. Start the server after "
      + "the file appears, so the start-up measured is the server's and not this JVM's own class loading.")
  Path readyFile;
  @Option(names = "--timeout-seconds", defaultValue = "60") int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    if (readyFile == null && launchedAt == null) {
      System.err.println("give --launched-at-ms or --ready-file");
      return 2;
    }
    if (readyFile != null) {
      warmUp();
      Files.createFile(readyFile);
    }
    ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
      while (System.currentTimeMillis() < deadline) {
        if (serving(channel)) {
          long now = System.currentTimeMillis();
          System.out.println(launchedAt == null ? now : now - launchedAt);
          return 0;
        }
        Thread.sleep(10);
        // a refused connection puts the channel in gRPC's reconnect backoff (1 s at first, then
        // longer), during which calls fail without trying: the probe would see SERVING up to a
        // second late, and that wait would be counted as the server's start-up
        channel.resetConnectBackoff();
      }
      System.err.println("server did not become SERVING within " + timeoutSeconds + " s");
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }

  private static boolean serving(ManagedChannel channel) {
    try {
      return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(500, TimeUnit.MILLISECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING;
    } catch (StatusRuntimeException e) {
      return false; // not listening yet
    }
  }

  /**
   * The first health call of a fresh JVM loads and links the client's HTTP/2, Netty and protobuf
   * code: a few hundred milliseconds on this machine, which would be counted as the server's. A
   * probe in production (the kubelet, a load balancer) is long warm; so is this one after a few
   * calls to a health service in its own JVM.
   */
  private static void warmUp() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server own = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(health.getHealthService()).build().start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", own.getPort()).usePlaintext().build();
    try {
      // the first calls may take seconds on a busy machine (the previous server still stopping):
      // warming up has no deadline to meet, only a number of answered calls to reach
      int answered = 0;
      for (int i = 0; i < 400 && answered < 200; i++) {
        if (serving(channel)) {
          answered++;
        }
      }
      if (answered < 200) {
        throw new IllegalStateException("the probe's own health service did not answer SERVING");
      }
    } finally {
      channel.shutdownNow();
      own.shutdownNow();
    }
  }
}
