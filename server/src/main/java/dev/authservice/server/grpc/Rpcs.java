package dev.authservice.server.grpc;

import dev.authservice.server.core.ServiceException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses: every service, the interceptor, the store
 * gate and the message guard answer through it. A {@link ServiceException} carries a
 * vetted message; anything else is logged here in full and answered with a fixed text, so no
 * library message or stack trace reaches a client.
 */
final class Rpcs {
  private static final Logger log = LoggerFactory.getLogger(Rpcs.class);

  /** Runs a unary RPC body and answers with its result or its mapped status. */
  <T> void unary(StreamObserver<T> observer, Supplier<T> body) {
    T response;
    try {
      response = body.get();
    } catch (RuntimeException | Error e) {
      // an Error too: gRPC would answer it UNKNOWN and print it from the executor's thread (the
      // JVM's own OutOfMemoryError never gets here: -XX:+ExitOnOutOfMemoryError stops the server)
      observer.onError(new StatusRuntimeException(toStatus(e)));
      return;
    }
    observer.onNext(response);
    observer.onCompleted();
  }

  Status toStatus(Throwable e) {
    if (e instanceof ServiceException se) {
      Status status = switch (se.kind()) {
        case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
        case BAD_CREDENTIALS, UNAUTHENTICATED -> Status.UNAUTHENTICATED;
        case FORBIDDEN -> Status.PERMISSION_DENIED;
        case NOT_FOUND -> Status.NOT_FOUND;
        case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
        case UNAVAILABLE -> Status.UNAVAILABLE;
        case EXHAUSTED -> Status.RESOURCE_EXHAUSTED;
      };
      return status.withDescription(se.publicMessage());
    }
    if (e instanceof StatusRuntimeException sre) {
      return sre.getStatus();
    }
    log.error("internal error", e);
    return Status.INTERNAL.withDescription("internal error; the server log has details");
  }
}
