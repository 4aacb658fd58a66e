package dev.authservice.client;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The responses of one server-streaming call, read by one thread as an iterator, with messages
 * asked for ahead of the reader in batches.
 *
 * <p>Why not the blocking stub's iterator: it asks the transport for one message at a time, so
 * every message took a round of thread hand-offs (the reader asks the transport thread, which
 * hands the message to a callback thread, which hands it to the reader). A stream of small
 * audit events ran at the speed of those hand-offs, about 15,000 events/s on two cores with most
 * of the CPU idle. Here {@code window} messages are asked for at the start and half a window
 * more each time the reader has taken half a window, so the transport keeps delivering while the
 * reader works.
 *
 * <p>Memory stays bounded by the window: at most {@code window} messages are ever asked for and
 * not yet read, so a slow reader still makes the server wait (flow control), as before. The
 * callbacks only hand messages over and never block, so they may run on the transport's thread.
 * One thread at a time reads; to end the call from another, cancel the gRPC context it was
 * started in.
 */
final class StreamedResponses<Q, R> implements ClientResponseObserver<Q, R>, Iterator<R> {
  /** Callback and reader agree on nothing else: the queue carries messages, then one End. */
  private record End(Throwable error) {}

  private final int window;
  /** Unbounded as a type, bounded in use: never more than {@code window} messages plus the End. */
  private final BlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
  /** Set as the call starts; volatile, as the stream may be read on another thread than started it. */
  private volatile ClientCallStreamObserver<Q> call;
  // read by the reader's thread only
  private int takenSinceRequest;
  private R peeked;
  private End end;

  /** @param window how many messages may be asked for and unread at once; at least 2 */
  StreamedResponses(int window) {
    if (window < 2) {
      throw new IllegalArgumentException("window must be at least 2, got " + window);
    }
    this.window = window;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
    this.call = requestStream;
    requestStream.disableAutoRequestWithInitial(window);
  }

  @Override
  public void onNext(R message) {
    arrived.add(message);
  }

  @Override
  public void onError(Throwable error) {
    arrived.add(new End(error));
  }

  @Override
  public void onCompleted() {
    arrived.add(new End(null));
  }

  /** Blocks until a message, the end of the stream, or its failure (thrown as StatusRuntimeException). */
  @Override
  public boolean hasNext() {
    if (peeked != null) {
      return true;
    }
    if (end != null) {
      return finish();
    }
    Object item = take();
    if (item instanceof End ended) {
      end = ended;
      return finish();
    }
    @SuppressWarnings("unchecked")
    R message = (R) item;
    peeked = message;
    if (++takenSinceRequest >= window / 2) {
      call.request(takenSinceRequest);
      takenSinceRequest = 0;
    }
    return true;
  }

  @Override
  public R next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    R message = peeked;
    peeked = null;
    return message;
  }

  /** Ends the call from the reading thread, which alone touches the call once it has started. */
  private void cancel() {
    call.cancel("the reader was interrupted", null);
  }

  private Object take() {
    Object waiting = arrived.poll();
    if (waiting != null) {
      return waiting;
    }
    try {
      return arrived.take();
    } catch (InterruptedException e) {
      cancel();
      Thread.currentThread().interrupt();
      // the stream is over for this reader too: asked again, it fails the same way
      return new End(Status.CANCELLED.withDescription("interrupted while waiting for the stream").withCause(e)
          .asRuntimeException());
    }
  }

  /** False at a clean end; the call's failure, every time it is asked, otherwise. */
  private boolean finish() {
    if (end.error() == null) {
      return false;
    }
    // made anew on the reader's thread, so its stack trace shows where the stream was read
    throw Status.fromThrowable(end.error()).asRuntimeException(Status.trailersFromThrowable(end.error()));
  }
}
