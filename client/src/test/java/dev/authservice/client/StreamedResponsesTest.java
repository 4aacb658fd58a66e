package dev.authservice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The reader's side of a streamed call, fed by hand: how many messages it asks for as it reads.
 * The end-to-end behaviour against a running server is in {@link AuthClientTest}.
 */
class StreamedResponsesTest {
  private static final int WINDOW = 8;

  /** The transport's side of a call as the reader sees it: what was asked for, and cancels. */
  private static final class Transport extends ClientCallStreamObserver<String> {
    final AtomicInteger requested = new AtomicInteger();
    volatile String cancelled;

    @Override
    public void disableAutoRequestWithInitial(int request) {
      requested.addAndGet(request);
    }

    @Override
    public void request(int count) {
      requested.addAndGet(count);
    }

    @Override
    public void cancel(String message, Throwable cause) {
      cancelled = message;
    }

    @Override
    public boolean isReady() {
      return true;
    }

    @Override
    public void setOnReadyHandler(Runnable onReadyHandler) {}

    @Override
    public void disableAutoInboundFlowControl() {
      throw new AssertionError("the reader asks for messages itself from the start");
    }

    @Override
    public void setMessageCompression(boolean enable) {}

    @Override
    public void onNext(String value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  @Test
  void asksForMoreOnlyAsTheReaderTakesThemSoAtMostAWindowWaits() {
    Transport transport = new Transport();
    StreamedResponses<String, String> responses = new StreamedResponses<>(WINDOW);
    responses.beforeStart(transport);
    assertEquals(WINDOW, transport.requested.get(), "a window asked for at the start");

    int delivered = 0;
    for (int taken = 0; taken < 5 * WINDOW; taken++) {
      // the transport delivers all that was asked for: the most a reader that stops could face
      while (delivered < transport.requested.get()) {
        responses.onNext("m" + delivered++);
      }
      assertEquals("m" + taken, responses.next());
      int askedAndUnread = transport.requested.get() - (taken + 1);
      assertTrue(askedAndUnread <= WINDOW, "never more than a window ahead: " + askedAndUnread);
      assertTrue(askedAndUnread >= WINDOW / 2, "never starved: " + askedAndUnread);
    }
    responses.onCompleted();
    while (responses.hasNext()) {
      responses.next();
    }
    assertFalse(responses.hasNext(), "a clean end stays an end");
    assertEquals(null, transport.cancelled);
  }

  @Test
  void aFailureComesAfterTheMessagesBeforeItAndStays() {
    Transport transport = new Transport();
    StreamedResponses<String, String> responses = new StreamedResponses<>(WINDOW);
    responses.beforeStart(transport);
    responses.onNext("first");
    responses.onError(Status.PERMISSION_DENIED.withDescription("role auditor needed").asRuntimeException());
    assertEquals("first", responses.next());
    StatusRuntimeException failed = assertThrows(StatusRuntimeException.class, responses::hasNext);
    assertEquals(Status.Code.PERMISSION_DENIED, failed.getStatus().getCode());
    assertEquals("role auditor needed", failed.getStatus().getDescription());
    assertThrows(StatusRuntimeException.class, responses::next);
  }

  @Test
  void anInterruptedReaderCancelsTheCall() throws Exception {
    Transport transport = new Transport();
    StreamedResponses<String, String> responses = new StreamedResponses<>(WINDOW);
    responses.beforeStart(transport);
    CompletableFuture<Thread> reader = new CompletableFuture<>();
    CompletableFuture<Object> outcome = CompletableFuture.supplyAsync(() -> {
      reader.complete(Thread.currentThread());
      try {
        return responses.hasNext();
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode() + (Thread.currentThread().isInterrupted() ? " interrupted" : "");
      }
    }, runnable -> new Thread(runnable).start());
    reader.get(20, TimeUnit.SECONDS).interrupt();
    assertEquals("CANCELLED interrupted", outcome.get(20, TimeUnit.SECONDS));
    assertEquals("the reader was interrupted", transport.cancelled);
    // what arrives after is not read: the stream has ended for this reader
    responses.onNext("late");
    assertEquals(Status.Code.CANCELLED, assertThrows(StatusRuntimeException.class, responses::hasNext)
        .getStatus().getCode());
  }
}
