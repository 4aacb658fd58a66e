package dev.authservice.bench;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Waits until the server reports SERVING; prints the milliseconds since the server was launched. */
@Command(name = "wait-serving", description = "Wait for health SERVING and print the time since launch.")
final class WaitServing implements Callable<Integer> {
  @Option(names = "--target", defaultValue = "127.0.0.1:50051") String target;
  @Option(names = "--launched-at-ms", required = true, description = "When the server process was started (epoch ms).")
  long launchedAt;
  @Option(names = "--timeout-seconds", defaultValue = "60") int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      long deadline = System.currentTimeMillis() + timeoutSeconds * 1000L;
      while (System.currentTimeMillis() < deadline) {
        try {
          if (HealthGrpc.newBlockingStub(channel).withDeadlineAfter(500, TimeUnit.MILLISECONDS)
              .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING) {
            System.out.println(System.currentTimeMillis() - launchedAt);
            return 0;
          }
        } catch (StatusRuntimeException e) {
          // not listening yet
        }
        Thread.sleep(10);
      }
      System.err.println("server did not become SERVING within " + timeoutSeconds + " s");
      return 1;
    } finally {
      channel.shutdownNow();
    }
  }
}
