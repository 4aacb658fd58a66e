package dev.authservice.server.grpc;

import dev.authservice.proto.auth.v1.StreamAuditResponse;
import dev.authservice.server.usecase.CallerRecheck;
import dev.authservice.server.usecase.CallSlots;
import dev.authservice.server.audit.read.AuditStream;
import dev.authservice.server.core.ServiceException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one StreamAudit call's events from a virtual thread of its own, one message at a time and
 * only while the transport is ready for more, so a slow reader makes the server wait, never
 * buffer. The caller's standing is checked again before a batch is sent whenever any of its
 * events was read from the store after the last check (so an event recording the caller's own
 * disabling or revocation is never sent to them), and at least every recheck interval while the
 * stream sends, waits for events or waits for its reader. The stream's slot is given back however
 * the call ends.
 */
final class AuditStreamSender {
  private static final Logger log = LoggerFactory.getLogger(AuditStreamSender.class);
  private static final int BATCH = 256;
  private static final Duration FOLLOW_POLL = Duration.ofMillis(250);
  /** The longest a waiting sender sleeps before it looks at its caller's standing again. */
  private static final Duration WAIT_SLICE = Duration.ofMillis(250);

  private final AuditStream stream;
  private final boolean follow;
  private final Function<AuditStream.Delivery, StreamAuditResponse> message;
  private final CallerRecheck.Standing standing;
  private final Consumer<CallerRecheck.Denial> recordDenial;
  private final CallSlots.Slot slot;
  private final ServerCallStreamObserver<StreamAuditResponse> out;
  private final Rpcs rpcs;
  private final FlowGate gate;

  AuditStreamSender(AuditStream stream, boolean follow, Function<AuditStream.Delivery, StreamAuditResponse> message,
      CallerRecheck.Standing standing, Consumer<CallerRecheck.Denial> recordDenial, CallSlots.Slot slot,
      ServerCallStreamObserver<StreamAuditResponse> out, Rpcs rpcs) {
    this.stream = stream;
    this.follow = follow;
    this.message = message;
    this.standing = standing;
    this.recordDenial = recordDenial;
    this.slot = slot;
    this.out = out;
    this.rpcs = rpcs;
    this.gate = new FlowGate(out);
  }

  /** Starts sending; the slot is given back when the thread ends (or at once if it cannot start). */
  void start() {
    try {
      Thread.ofVirtual().name("stream-audit").start(this::run);
    } catch (RuntimeException | Error e) {
      slot.close();
      throw e;
    }
  }

  private void run() {
    // the stream's pages read when the caller was last checked; none yet
    long checkedAfterPages = -1;
    try {
      while (!gate.cancelled()) {
        List<AuditStream.Delivery> batch = stream.next(BATCH);
        if (!batch.isEmpty()) {
          long pagesRead = stream.pagesRead();
          if (pagesRead != checkedAfterPages) {
            // some of these events were read after the last check: check again before sending
            // them (one check per page read, not per batch: the check is a store read itself)
            requireStanding(standing.check());
            checkedAfterPages = pagesRead;
          } else {
            requireStanding(standing.checkIfDue());
          }
        }
        for (AuditStream.Delivery delivery : batch) {
          if (!awaitReady()) {
            return;
          }
          out.onNext(message.apply(delivery));
        }
        if (batch.isEmpty()) {
          if (!follow) {
            break;
          }
          requireStanding(standing.checkIfDue());
          gate.sleep(FOLLOW_POLL);
        }
      }
      if (!gate.cancelled()) {
        out.onCompleted();
      }
    } catch (Denied denied) {
      end(denied.denial);
    } catch (RuntimeException e) {
      if (!gate.cancelled()) {
        out.onError(new StatusRuntimeException(rpcs.toStatus(e)));
      }
    } finally {
      slot.close();
    }
  }

  /** Waits until the reader can take a message, checking the caller when due; false if it went away. */
  private boolean awaitReady() {
    while (!gate.awaitReady(WAIT_SLICE)) {
      if (gate.cancelled()) {
        return false;
      }
      requireStanding(standing.checkIfDue());
    }
    return true;
  }

  private void end(CallerRecheck.Denial denial) {
    try {
      recordDenial.accept(denial);
    } catch (RuntimeException e) {
      log.warn("could not record the end of a stream ({}): {}", denial.reason(), e.toString());
    }
    if (!gate.cancelled()) {
      Status status = rpcs.toStatus(new ServiceException(denial.kind(), denial.message()));
      out.onError(new StatusRuntimeException(status));
    }
  }

  private static void requireStanding(Optional<CallerRecheck.Denial> denial) {
    if (denial.isPresent()) {
      throw new Denied(denial.get());
    }
  }

  /** The caller may no longer read: ends the loop. */
  private static final class Denied extends RuntimeException {
    final transient CallerRecheck.Denial denial;

    Denied(CallerRecheck.Denial denial) {
      super(denial.reason(), null, false, false);
      this.denial = denial;
    }
  }

  /** Wakes the sending thread when the transport can take more, or the reader went away. */
  private static final class FlowGate {
    private final ServerCallStreamObserver<?> out;
    private final Object signal = new Object();
    private volatile boolean cancelled;

    FlowGate(ServerCallStreamObserver<?> out) {
      this.out = out;
      out.setOnCancelHandler(() -> {
        cancelled = true;
        wake();
      });
      out.setOnReadyHandler(this::wake);
    }

    boolean cancelled() {
      return cancelled;
    }

    private void wake() {
      synchronized (signal) {
        signal.notifyAll();
      }
    }

    /** Waits up to {@code slice} until the reader can take a message; true if it can (and is still there). */
    boolean awaitReady(Duration slice) {
      synchronized (signal) {
        if (!cancelled && !out.isReady()) {
          try {
            signal.wait(slice.toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancelled = true;
          }
        }
        return !cancelled && out.isReady();
      }
    }

    void sleep(Duration pause) {
      synchronized (signal) {
        try {
          signal.wait(pause.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          cancelled = true;
        }
      }
    }
  }
}
