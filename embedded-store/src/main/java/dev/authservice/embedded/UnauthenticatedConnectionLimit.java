package dev.authservice.embedded;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds how many connections may be open without having authenticated: a connection accepted
 * beyond {@link #MAX_UNAUTHENTICATED} is closed at once. Refusals are logged at most once a
 * {@link #LOG_INTERVAL}, with how many there were.
 *
 * <p>Each open connection holds a socket, its pipeline and up to 16 KiB of a message
 * ({@link UnauthenticatedFrameLimit}) in the heap the auth server shares with the store. Without
 * a bound, a local process without the credential could open connections until that heap or the
 * process's file descriptors ran out, and the server with them. Connections that never
 * authenticate are legitimate too (the driver's monitors only ever say hello), so none is closed
 * for waiting; the newest over the bound is. The auth server's own connections authenticate
 * within milliseconds of opening and stop counting then: a flood can delay only the connections
 * its driver opens while the flood holds every place, never close one it has.
 *
 * <p>One instance per listener, shared by its connections.
 */
@ChannelHandler.Sharable
final class UnauthenticatedConnectionLimit extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(UnauthenticatedConnectionLimit.class);
  /** Set on a connection while it counts against the limit; cleared once, when it authenticates or closes. */
  private static final AttributeKey<UnauthenticatedConnectionLimit> COUNTED_BY =
      AttributeKey.valueOf(UnauthenticatedConnectionLimit.class, "countedBy");
  private static final AttributeKey<Boolean> REFUSED = AttributeKey.valueOf(UnauthenticatedConnectionLimit.class, "refused");

  /**
   * Connections open at once without having authenticated. Each client of the driver holds two
   * that never do (its monitors) and opens at most two pool connections at a time (the driver's
   * {@code maxConnecting}), which authenticate within milliseconds: the auth server is one such
   * client, and tools reading the store through the URI file add one each, so 256 leaves room for
   * over sixty at once. Each holds at most about 20 KiB of heap before authenticating, so the
   * bound holds them to about 5 MiB.
   */
  static final int MAX_UNAUTHENTICATED = 256;
  /** Refused connections are logged at most this often (a flood would otherwise write a line each). */
  static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

  private final int max;
  private final AtomicInteger unauthenticated = new AtomicInteger();
  private final long logIntervalNanos = LOG_INTERVAL.toNanos();
  private long lastLogged;
  private boolean loggedOnce;
  private long unlogged;

  UnauthenticatedConnectionLimit(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("at least one unauthenticated connection must be allowed, not " + max);
    }
    this.max = max;
  }

  /** Connections open now that have not authenticated. */
  int unauthenticated() {
    return unauthenticated.get();
  }

  /** {@code channel} authenticated (called on a command thread): it no longer counts. */
  static void authenticated(Channel channel) {
    UnauthenticatedConnectionLimit limit = channel.attr(COUNTED_BY).getAndSet(null);
    if (limit != null) {
      limit.unauthenticated.decrementAndGet();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    Channel channel = ctx.channel();
    if (unauthenticated.incrementAndGet() > max) {
      unauthenticated.decrementAndGet();
      // the handlers behind never saw it open, so they do not see it close either
      channel.attr(REFUSED).set(Boolean.TRUE);
      refused(channel.remoteAddress());
      ctx.close();
      return;
    }
    channel.attr(COUNTED_BY).set(this);
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Channel channel = ctx.channel();
    if (channel.hasAttr(REFUSED)) {
      return;
    }
    // closed before it authenticated (or the attribute is already cleared, and this does nothing)
    authenticated(channel);
    ctx.fireChannelInactive();
  }

  private synchronized void refused(SocketAddress from) {
    unlogged++;
    long now = System.nanoTime();
    if (loggedOnce && now - lastLogged < logIntervalNanos) {
      return;
    }
    log.warn("embedded store: refused {} connection(s), the latest from {}: {} connections were open without"
        + " having authenticated, the most allowed (further refusals are logged at most once a minute)",
        unlogged, from, max);
    unlogged = 0;
    lastLogged = now;
    loggedOnce = true;
  }
}
