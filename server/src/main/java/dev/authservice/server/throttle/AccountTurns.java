package dev.authservice.server.throttle;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Semaphore;

/**
 * On this instance, the logins of one account take turns: at most one has its password checked
 * at a time, the others wait (fairly, a bounded time, a bounded number of them). A flood of
 * guesses at one account therefore holds at most one of the hashing slots every login shares,
 * and each guess in the queue sees the lock the previous one caused before it is checked.
 * Memory holds only accounts with an attempt in progress.
 */
final class AccountTurns {
  private static final class Queue {
    final Semaphore turn = new Semaphore(1, true);
    int holders;
  }

  private final ConcurrentHashMap<String, Queue> queues = new ConcurrentHashMap<>();
  private final Duration maxWait;
  private final int maxWaiting;

  AccountTurns(Duration maxWait, int maxWaiting) {
    this.maxWait = maxWait;
    this.maxWaiting = maxWaiting;
  }

  /** A turn that was given; closing it lets the next attempt of the account go. */
  interface Turn extends AutoCloseable {
    @Override
    void close();
  }

  /** Waits for the account's turn; empty when too many wait already or the wait ran out. */
  Optional<Turn> await(String account) {
    Queue[] joined = new Queue[1];
    queues.compute(account, (k, q) -> {
      Queue queue = q == null ? new Queue() : q;
      if (queue.holders > maxWaiting) {
        return queue;
      }
      queue.holders++;
      joined[0] = queue;
      return queue;
    });
    Queue queue = joined[0];
    if (queue == null) {
      return Optional.empty();
    }
    boolean locked = false;
    try {
      locked = queue.turn.tryAcquire(maxWait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!locked) {
      leave(account, queue);
      return Optional.empty();
    }
    return Optional.of(() -> {
      queue.turn.release();
      leave(account, queue);
    });
  }

  private void leave(String account, Queue queue) {
    queues.compute(account, (k, q) -> {
      queue.holders--;
      return queue.holders == 0 ? null : queue;
    });
  }

  /** Accounts with an attempt in progress or waiting (for tests and metrics). */
  int accountsInProgress() {
    return queues.size();
  }
}
