package dev.authservice.embedded;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.wire.MongoDatabaseHandler;
import de.bwaldvogel.mongo.wire.MongoWireMessageEncoder;
import de.bwaldvogel.mongo.wire.MongoWireProtocolHandler;
import de.bwaldvogel.mongo.wire.MongoWireReplyEncoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store's listener: mongo-java-server's wire pipeline, with each connection's
 * requests run in order on a pool of command threads instead of on the connection's I/O thread.
 *
 * <p>The library's own server runs every command on its connection's Netty event loop, a few of
 * which serve all connections. A long command (a summary's walk, a page of a large query) then
 * stalls every other connection on that loop, the driver's monitor among them: after 1.5 s
 * (AUTH_STORE_TIMEOUT) the driver saw the store as gone, and for a second the whole auth server
 * refused every call that needs the store ("the store is unreachable"), one auditor's query
 * turning away everyone's logins. Here the event loops only read and write; a connection waits
 * only for its own commands, and for a command thread when {@link #COMMAND_THREADS} long ones run
 * at once (the bound: threads are not made per connection, so connections cannot grow them).
 */
final class WireServer {
  private static final Logger log = LoggerFactory.getLogger(WireServer.class);
  /** Set by a backend that wants its connection closed once the answer it is giving has been written. */
  private static final AttributeKey<Boolean> CLOSE_AFTER_ANSWER = AttributeKey.valueOf(WireServer.class, "closeAfterAnswer");
  /** Commands that may run at once; more wait their turn (each connection's stay in order). */
  static final int COMMAND_THREADS = 16;
  private static final int BACKLOG = 100;
  /** Requests of one connection run before it yields its command thread to others waiting. */
  private static final int REQUESTS_PER_TURN = 16;

  private final MongoBackend backend;
  private final EventLoopGroup acceptor;
  private final EventLoopGroup io;
  private final ExecutorService commands;
  private final ChannelGroup connections;
  private final UnauthenticatedConnectionLimit unauthenticated;
  private final ConnectionWarnings warnings;
  private final Channel listener;
  /**
   * Where the connections' buffers come from: allocated for each message and freed once it has been
   * read or written, none kept. Netty's default (4.2: the adaptive pool) keeps the chunks a burst
   * made for as long as the process lives: after 100k events were seeded into a running server it
   * held 25 MiB of native memory (NMT's "Other", 27.6 MiB against 2.9 with this), and the server's
   * peak RSS under QueryAudit load right after was 296 MiB against 272 (docs/benchmarks.md). The
   * store's traffic is one message per command over loopback, so a pool saves little: Validate with
   * audit {@code every}, which writes through it, ran as fast either way. Direct buffers where Netty
   * may use {@code Unsafe} (JDK 21 to 23); from JDK 24 on Netty leaves it off by default, and these
   * are heap buffers, which the JDK copies into a temporary direct buffer to write and keeps one of
   * per writing thread, as large as the largest message it wrote (about 3 MiB in all after the
   * seeding and StreamAudit loads above; {@code -Djdk.nio.maxCachedBufferSize} bounds it). One per
   * listener, so its metrics count this listener's buffers only.
   */
  private final ByteBufAllocator connectionBuffers = new UnpooledByteBufAllocator(true);

  /**
   * What the listener allows connections that have not authenticated: how long a message may stay
   * half received ({@link UnauthenticatedFrameLimit}), how many may be open
   * ({@link UnauthenticatedConnectionLimit}), and how many warnings about them are logged in a
   * window ({@link ConnectionWarnings}). Tests shorten them.
   */
  record Limits(Duration partialFrameTimeout, int maxUnauthenticated, int warningsPerWindow, Duration warningWindow,
      java.util.function.LongSupplier nanoTime) {
    static final Limits DEFAULTS = new Limits(UnauthenticatedFrameLimit.PARTIAL_FRAME_TIMEOUT,
        UnauthenticatedConnectionLimit.MAX_UNAUTHENTICATED, ConnectionWarnings.PER_WINDOW, ConnectionWarnings.WINDOW,
        System::nanoTime);

    Limits withPartialFrameTimeout(Duration timeout) {
      return new Limits(timeout, maxUnauthenticated, warningsPerWindow, warningWindow, nanoTime);
    }

    Limits withMaxUnauthenticated(int max) {
      return new Limits(partialFrameTimeout, max, warningsPerWindow, warningWindow, nanoTime);
    }

    /** The warnings' budget, its windows timed by {@code clock} (nanoseconds, monotonic). */
    Limits withWarnings(int perWindow, Duration window, java.util.function.LongSupplier clock) {
      return new Limits(partialFrameTimeout, maxUnauthenticated, perWindow, window, clock);
    }
  }

  private WireServer(MongoBackend backend, InetSocketAddress address, int ioThreads, Limits limits) {
    this.backend = backend;
    this.unauthenticated = new UnauthenticatedConnectionLimit(limits.maxUnauthenticated());
    this.warnings = new ConnectionWarnings(limits.warningsPerWindow(), limits.warningWindow(), limits.nanoTime());
    // the mark only means something behind the store's authentication (tests bind bare backends too)
    ConnectionMarker marker = backend instanceof AuthenticatingBackend guarded ? guarded.marker() : null;
    this.acceptor = new NioEventLoopGroup(1, named("mongo-server-boss", false));
    this.io = new NioEventLoopGroup(ioThreads, named("mongo-server-worker", false));
    this.commands = Executors.newFixedThreadPool(COMMAND_THREADS, named("mongo-server-command", true));
    this.connections = new DefaultChannelGroup("embedded-store-connections", io.next());
    try {
      this.listener = new ServerBootstrap().group(acceptor, io).channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, BACKLOG).childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.ALLOCATOR, connectionBuffers)
          .localAddress(address)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel channel) {
              warnings.govern(channel);
              // first: a connection over the bound is closed before anything else sees it
              channel.pipeline().addLast(unauthenticated, new MongoWireReplyEncoder(), new MongoWireMessageEncoder(),
                  // before the library's frame decoder, which would buffer up to 48 MB of any connection
                  new UnauthenticatedFrameLimit(UnauthenticatedFrameLimit.MAX_FRAME_BYTES,
                      UnauthenticatedFrameLimit.MAX_FRAMES_PER_READ, limits.partialFrameTimeout()),
                  new MongoWireProtocolHandler());
              if (marker != null) {
                // on the I/O thread, before the message waits for a command thread: an attacker
                // queueing work cannot stretch the time a client of the store's own counts
                channel.pipeline().addLast(new FirstMessageMark(marker));
              }
              channel.pipeline().addLast(
                  new OffLoopCommands(new MongoDatabaseHandler(backend, connections), commands),
                  new ClosingOnError());
            }
          })
          .bind().syncUninterruptibly().channel();
    } catch (RuntimeException e) {
      stopThreads();
      throw e;
    }
  }

  /** Listens on {@code host:port} (0: any free port). */
  static WireServer bind(MongoBackend backend, String host, int port) {
    return bind(backend, host, port, 0);
  }

  /** As {@link #bind(MongoBackend, String, int)} with {@code ioThreads} I/O threads (0: Netty's default, 2 per core). */
  static WireServer bind(MongoBackend backend, String host, int port, int ioThreads) {
    return bind(backend, host, port, ioThreads, Limits.DEFAULTS);
  }

  /** As {@link #bind(MongoBackend, String, int, int)}, with these limits on unauthenticated connections. */
  static WireServer bind(MongoBackend backend, String host, int port, int ioThreads, Limits limits) {
    return new WireServer(backend, new InetSocketAddress(host, port), ioThreads, limits);
  }

  /**
   * Asks that {@code channel} be closed once the answer to the request being handled has been
   * written (a backend's answer is written after it returns, from another thread than the
   * connection's I/O thread, so a close queued by the backend itself would overtake it).
   */
  static void closeAfterAnswer(Channel channel) {
    channel.attr(CLOSE_AFTER_ANSWER).set(Boolean.TRUE);
  }

  /**
   * Tells the listener that {@code channel} has authenticated (called by the backend before its
   * answer): its messages are no longer held to {@link UnauthenticatedFrameLimit}'s limits, and it
   * no longer counts against {@link UnauthenticatedConnectionLimit}.
   */
  static void authenticated(Channel channel) {
    UnauthenticatedFrameLimit.authenticated(channel);
    UnauthenticatedConnectionLimit.release(channel);
  }

  /**
   * Tells the listener that {@code channel} showed the store's {@link ConnectionMarker} (one of the
   * store's own clients, a monitor perhaps, which never authenticates): it no longer counts against
   * {@link UnauthenticatedConnectionLimit}, and is never closed for it.
   */
  static void marked(Channel channel) {
    UnauthenticatedConnectionLimit.release(channel);
  }

  /** Connections open now that have not authenticated. */
  int unauthenticatedConnections() {
    return unauthenticated.unauthenticated();
  }

  /**
   * The bytes the open connections' buffer allocators hold now, in use or kept for reuse (what
   * their metrics say; an allocator without metrics counts nothing).
   */
  long connectionBufferBytes() {
    return connections.stream().map(channel -> channel.config().getAllocator()).distinct()
        .filter(ByteBufAllocatorMetricProvider.class::isInstance)
        .map(allocator -> ((ByteBufAllocatorMetricProvider) allocator).metric())
        .mapToLong(metric -> metric.usedDirectMemory() + metric.usedHeapMemory()).sum();
  }

  /** Connections open now. */
  int connectionCount() {
    return connections.size();
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) listener.localAddress();
  }

  /** Stops listening, closes every connection, stops the threads and closes the backend. */
  void shutdownNow() {
    listener.close().syncUninterruptibly();
    connections.close().syncUninterruptibly();
    stopThreads();
    warnings.flush();
    backend.close();
  }

  private void stopThreads() {
    io.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    acceptor.shutdownGracefully(0, 5, TimeUnit.SECONDS);
    commands.shutdown();
    io.terminationFuture().syncUninterruptibly();
    acceptor.terminationFuture().syncUninterruptibly();
    try {
      // a command running now may finish before the backend closes (its answer goes nowhere)
      if (!commands.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn("embedded store: a command still ran 10 s after shutdown began; closing the store under it");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static java.util.concurrent.ThreadFactory named(String prefix, boolean daemon) {
    return Thread.ofPlatform().name(prefix + "-", 1).daemon(daemon).factory();
  }

  /**
   * One connection's requests, connect and disconnect handed to the command threads one at a time,
   * in the order the connection's I/O thread saw them; the library's handler answers through this
   * handler's context, so its replies pass the same encoders.
   */
  private static final class OffLoopCommands extends ChannelInboundHandlerAdapter {
    private final MongoDatabaseHandler database;
    private final ExecutorService commands;
    private final Queue<Runnable> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();

    OffLoopCommands(MongoDatabaseHandler database, ExecutorService commands) {
      this.database = database;
      this.commands = commands;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      inOrder(ctx, () -> database.channelActive(ctx));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object request) {
      // no more reading from this connection while it has requests waiting or answers it has not
      // taken: a client that sends without reading the answers fills its own socket, not this
      // process's memory (what one read already decoded, at most a read buffer's worth, still runs)
      ctx.channel().config().setAutoRead(false);
      inOrder(ctx, () -> {
        try {
          if (!ctx.channel().isActive() && !UnauthenticatedFrameLimit.isAuthenticated(ctx.channel())) {
            // closed before it authenticated (by its client, or for the bound) while this waited:
            // nobody to answer, and nothing it may do (an authenticated one's writes still run)
            return;
          }
          database.channelRead(ctx, request);
        } finally {
          Channel channel = ctx.channel();
          if (channel.attr(CLOSE_AFTER_ANSWER).getAndSet(null) != null) {
            // queued on the connection's I/O thread behind the answer's write, so it goes out first
            channel.eventLoop().execute(channel::close);
          } else {
            // on the I/O thread, behind the answer's write, so writability counts that answer
            channel.eventLoop().execute(() -> resumeIfIdle(channel));
          }
        }
      });
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      resumeIfIdle(ctx.channel());
      ctx.fireChannelWritabilityChanged();
    }

    private void resumeIfIdle(Channel channel) {
      if (pending.isEmpty() && channel.isWritable() && channel.isActive()) {
        channel.config().setAutoRead(true);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // a frame that does not decode ends the connection after the requests before it, as before
      inOrder(ctx, () -> fail(ctx, cause));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      inOrder(ctx, () -> database.channelInactive(ctx));
    }

    private interface Step {
      void run() throws Exception;
    }

    private void inOrder(ChannelHandlerContext ctx, Step step) {
      pending.add(() -> {
        try {
          step.run();
        } catch (Exception e) {
          // where the library's handler's own failures went: its exception handler closes the connection
          fail(ctx, e);
        }
      });
      drainLater();
    }

    /**
     * Hands an error to the pipeline's last handler, which ends the connection. A connection
     * already closed (by its client, or by the store stopping, whose event loops may be gone and
     * would log the refused event with a stack trace) has nothing left to end.
     */
    private static void fail(ChannelHandlerContext ctx, Throwable cause) {
      if (ctx.channel().isOpen()) {
        ctx.fireExceptionCaught(cause);
      } else {
        log.debug("embedded store: an error on connection {} after it closed", ctx.channel().remoteAddress(), cause);
      }
    }

    private void drainLater() {
      if (!pending.isEmpty() && draining.compareAndSet(false, true)) {
        try {
          commands.execute(this::drain);
        } catch (RejectedExecutionException shuttingDown) {
          pending.clear();
        }
      }
    }

    private void drain() {
      try {
        // a connection's turn is a few requests; then it queues again behind the others
        Runnable next;
        for (int i = 0; i < REQUESTS_PER_TURN && (next = pending.poll()) != null; i++) {
          next.run();
        }
      } finally {
        draining.set(false);
        drainLater();
      }
    }
  }

  /**
   * Looks at a connection's first message as it is decoded, on its I/O thread: a handshake
   * carrying the store's {@link ConnectionMarker} releases the connection from
   * {@link UnauthenticatedConnectionLimit} at once. Then it steps aside.
   */
  private static final class FirstMessageMark extends ChannelInboundHandlerAdapter {
    private final ConnectionMarker marker;

    FirstMessageMark(ConnectionMarker marker) {
      this.marker = marker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
      de.bwaldvogel.mongo.bson.Document command = message instanceof de.bwaldvogel.mongo.wire.message.MongoQuery query
          ? query.getQuery()
          : message instanceof de.bwaldvogel.mongo.wire.message.MongoMessage msg ? msg.getDocument() : null;
      if (marker.marksHandshake(command)) {
        marked(ctx.channel());
      }
      ctx.fireChannelRead(message);
      ctx.pipeline().remove(this);
    }
  }

  /** At most this much of a client-controlled string goes into a log line. */
  private static final int LOGGED_CHARS = 160;

  /** {@code text} for a log line: printable ASCII only (no forged lines), at most {@link #LOGGED_CHARS} characters. */
  static String printable(String text) {
    String safe = String.valueOf(text).replaceAll("[^\\x20-\\x7e]", "?");
    return safe.length() > LOGGED_CHARS ? safe.substring(0, LOGGED_CHARS) + "..." : safe;
  }

  /**
   * The pipeline's last handler: an error on a connection closes it. For a connection that has
   * not authenticated, a message that does not decode (an unknown opcode, bad BSON) is logged in
   * one line, at WARN as a refused authentication is, and once: the library's own handler logged
   * each at ERROR with its stack trace, so any local process could fill the log with stack traces
   * by sending garbage. Anything else (an error on the auth server's own authenticated
   * connections, or one that is not about the client's bytes) is a fault of ours and keeps its
   * stack trace; a connection the peer reset is not worth a warning.
   */
  static final class ClosingOnError extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Channel channel = ctx.channel();
      if (cause instanceof java.net.SocketException) {
        log.debug("embedded store: connection {} ended: {}", channel.remoteAddress(), printable(cause.toString()));
      } else if (!UnauthenticatedFrameLimit.isAuthenticated(channel) && isAboutTheInput(cause)) {
        if (channel.isOpen()) {
          ConnectionWarnings.warn(channel, log, "embedded store: closing unauthenticated connection {}: {}",
              channel.remoteAddress(), printable(cause.toString()));
        }
      } else {
        log.warn("embedded store: closing connection {} after an error", channel.remoteAddress(), cause);
      }
      ctx.close();
    }

    /** An error in reading what the client sent, rather than in the store. */
    private static boolean isAboutTheInput(Throwable cause) {
      return cause instanceof io.netty.handler.codec.DecoderException || cause instanceof java.io.IOException
          || cause instanceof UnsupportedOperationException || cause instanceof IllegalArgumentException;
    }
  }
}
