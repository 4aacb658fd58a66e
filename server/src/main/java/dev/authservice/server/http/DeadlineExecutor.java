package dev.authservice.server.http;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads of one HTTP listener: a fixed pool with a bounded queue, and a deadline on every
 * exchange. The JDK server reads the request on the pool thread, so a client that sends its
 * headers slowly (or reads the answer slowly) would hold a thread for as long as it likes; at the
 * deadline its thread is interrupted, which closes the connection (socket channels are
 * interruptible). When pool and queue are full, {@link #execute} refuses and the JDK server
 * closes the new connection at once.
 */
final class DeadlineExecutor implements Executor, AutoCloseable {
  private final ThreadPoolExecutor pool;
  private final ScheduledExecutorService watchdog;
  private final Duration deadline;

  DeadlineExecutor(String name, int threads, int queueCapacity, Duration deadline) {
    this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(queueCapacity), daemon(name), new ThreadPoolExecutor.AbortPolicy());
    this.watchdog = Executors.newSingleThreadScheduledExecutor(daemon(name + "-deadline"));
    this.deadline = deadline;
  }

  @Override
  public void execute(Runnable exchange) {
    Guarded guarded = new Guarded(exchange);
    guarded.timer = watchdog.schedule(guarded::expire, deadline.toMillis(), TimeUnit.MILLISECONDS);
    try {
      pool.execute(guarded);
    } catch (RejectedExecutionException e) {
      guarded.timer.cancel(false);
      throw e;
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
    watchdog.shutdownNow();
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** One exchange and its deadline; the interrupt can only reach the thread while it runs this exchange. */
  private static final class Guarded implements Runnable {
    private final Runnable task;
    private volatile ScheduledFuture<?> timer;
    private Thread runner;
    private boolean expired;
    private boolean finished;

    Guarded(Runnable task) {
      this.task = task;
    }

    @Override
    public void run() {
      synchronized (this) {
        runner = Thread.currentThread();
        if (expired) {
          // it waited in the queue past its deadline: its first read fails and closes the connection
          runner.interrupt();
        }
      }
      try {
        task.run();
      } finally {
        synchronized (this) {
          runner = null;
          finished = true;
          Thread.interrupted();
        }
        ScheduledFuture<?> t = timer;
        if (t != null) {
          t.cancel(false);
        }
      }
    }

    synchronized void expire() {
      if (finished) {
        return;
      }
      expired = true;
      if (runner != null) {
        runner.interrupt();
      }
    }
  }
}
