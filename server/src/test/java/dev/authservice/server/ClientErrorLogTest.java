package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.ValidateRequest;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A client's oversized or malformed message is its mistake: one log line, never a stack trace. */
class ClientErrorLogTest {
  /** Sends raw bytes as a Validate request, as a broken or hostile client would. */
  private static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  };

  @Test
  void oversizedAndMalformedMessagesAreLoggedAsOneLineEach() {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.start();
    root.addAppender(captured);
    try (TestServer server = TestServer.start()) {
      StatusRuntimeException oversized = assertThrows(StatusRuntimeException.class, () -> server.auth().validate(
          ValidateRequest.newBuilder().setToken("x".repeat(200_000)).build()));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, oversized.getStatus().getCode());

      MethodDescriptor<byte[], byte[]> rawValidate = AuthServiceGrpc.getValidateMethod().toBuilder(RAW, RAW).build();
      StatusRuntimeException malformed = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(
          server.channel(), rawValidate, CallOptions.DEFAULT, new byte[] {(byte) 0x0a, (byte) 0xff, 0x01, 0x02}));
      assertTrue(malformed.getStatus().getCode() != Status.Code.UNKNOWN, malformed.getStatus().toString());
      assertTrue(server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getTokenId().length() > 0,
          "the server keeps serving");
    } finally {
      root.detachAppender(captured);
    }
    List<ILoggingEvent> events = List.copyOf(captured.list);
    assertTrue(events.stream().anyMatch(e -> e.getFormattedMessage().contains("RESOURCE_EXHAUSTED")),
        "the oversized message is logged, in the service's log");
    for (ILoggingEvent event : events) {
      assertEquals(null, event.getThrowableProxy(), "a stack trace in the log: " + event.getFormattedMessage());
    }
  }

  /** A unary call with {@code count} request messages, as a broken client would send it. */
  private static io.grpc.Status callWith(TestServer server, int count) throws Exception {
    MethodDescriptor<byte[], byte[]> rawValidate = AuthServiceGrpc.getValidateMethod().toBuilder(RAW, RAW)
        .setType(MethodDescriptor.MethodType.BIDI_STREAMING).build();
    java.util.concurrent.CompletableFuture<io.grpc.Status> closed = new java.util.concurrent.CompletableFuture<>();
    io.grpc.ClientCall<byte[], byte[]> call = server.channel().newCall(rawValidate,
        CallOptions.DEFAULT.withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS));
    call.start(new io.grpc.ClientCall.Listener<>() {
      @Override
      public void onClose(io.grpc.Status status, io.grpc.Metadata trailers) {
        closed.complete(status);
      }
    }, new io.grpc.Metadata());
    call.request(2);
    byte[] valid = ValidateRequest.newBuilder().setToken("a.b.c").build().toByteArray();
    for (int i = 0; i < count; i++) {
      call.sendMessage(valid);
    }
    call.halfClose();
    return closed.get(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void noRequestMessageOrTwoAreTheClientsMistake() throws Exception {
    try (TestServer server = TestServer.start()) {
      io.grpc.Status none = callWith(server, 0);
      assertEquals(Status.Code.INVALID_ARGUMENT, none.getCode(), none.toString());
      io.grpc.Status two = callWith(server, 2);
      // refused with INVALID_ARGUMENT; the transport may report the reset of the stream it was still sending on
      assertTrue(two.getCode() == Status.Code.INVALID_ARGUMENT || two.getCode() == Status.Code.CANCELLED,
          two.toString());
      assertEquals(Status.Code.OK, callWith(server, 1).getCode());
    }
  }

  @Test
  void aFloodOfMalformedCallsCostsTheLogABoundedNumberOfLines() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> captured = new ListAppender<>();
    captured.start();
    root.addAppender(captured);
    try (TestServer server = TestServer.start()) {
      for (int i = 0; i < 200; i++) {
        assertEquals(Status.Code.INVALID_ARGUMENT, callWith(server, 0).getCode());
      }
    } finally {
      root.detachAppender(captured);
    }
    long lines = List.copyOf(captured.list).stream()
        .filter(e -> e.getFormattedMessage().startsWith("refused a call from a client")).count();
    assertTrue(lines >= 1 && lines <= dev.authservice.server.grpc.GrpcServices.REFUSED_CALL_LINES_PER_MINUTE,
        "lines for 200 malformed calls in well under a minute: " + lines);
  }
}
