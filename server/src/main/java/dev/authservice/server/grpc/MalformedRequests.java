package dev.authservice.server.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import dev.authservice.server.core.ServiceException;
import java.io.InputStream;
import dev.authservice.server.core.ThrottledLines;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request that is not a valid protobuf message of its method's type is the client's mistake:
 * INVALID_ARGUMENT with a sentence saying so, and one log line. (Left to grpc-java, the parse
 * fails before the service is reached and the client gets UNKNOWN "Application error".) The
 * service is given its requests as raw bytes, parsed here, where a failure can be answered.
 */
final class MalformedRequests implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(MalformedRequests.class);

  private static final MethodDescriptor.Marshaller<InputStream> RAW = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(InputStream value) {
      return value;
    }

    @Override
    public InputStream parse(InputStream stream) {
      return stream;
    }
  };

  private final Rpcs rpcs;
  /** The log's budget for these lines, shared by every service: any client can send malformed calls. */
  private final ThrottledLines lines;

  private MalformedRequests(Rpcs rpcs, ThrottledLines lines) {
    this.rpcs = rpcs;
    this.lines = lines;
  }

  /** The service, parsing its requests where a malformed one can be refused properly. */
  static ServerServiceDefinition guard(ServerServiceDefinition service, Rpcs rpcs, ThrottledLines lines) {
    return ServerInterceptors.intercept(ServerInterceptors.useMarshalledMessages(service, RAW),
        new MalformedRequests(rpcs, lines));
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    // every auth.v1 method takes exactly one request message
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      private boolean refused;
      private int messages;

      @Override
      public void onMessage(ReqT message) {
        if (refused) {
          return;
        }
        if (++messages > 1) {
          // answered once the client half-closes: closing while it still sends would reset the stream
          return;
        }
        try {
          // the delegate parses the raw bytes into the method's request type
          super.onMessage(message);
        } catch (RuntimeException e) {
          refuse("sent a request that is not a valid " + method.replace('/', '.') + " request message");
        }
      }

      @Override
      public void onHalfClose() {
        if (refused) {
          return;
        }
        if (messages != 1) {
          refuse("sent " + (messages == 0 ? "no request message" : messages + " request messages")
              + "; this method takes exactly one");
          return;
        }
        super.onHalfClose();
      }

      private void refuse(String what) {
        refused = true;
        lines.admit().ifPresent(more -> log.info("refused a call from a client: {} {}{}", method, what,
            ThrottledLines.suffix(more)));
        call.close(rpcs.toStatus(ServiceException.invalid("the client " + what)), new Metadata());
      }
    };
  }
}
