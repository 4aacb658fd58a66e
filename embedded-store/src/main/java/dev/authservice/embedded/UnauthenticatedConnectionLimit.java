package dev.authservice.embedded;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.util.Iterator;
import java.util.LinkedHashSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds how many connections may be open without having authenticated or shown the store's
 * {@link ConnectionMarker}: when one more opens beyond {@link #MAX_UNAUTHENTICATED}, the oldest of
 * them is closed. Each close is a warning within the listener's {@link ConnectionWarnings} budget.
 *
 * <p>Each open connection holds a socket, its pipeline and up to 16 KiB of a message
 * ({@link UnauthenticatedFrameLimit}) in the heap the auth server shares with the store. Without
 * a bound, a local process without the credential could open connections until that heap or the
 * process's file descriptors ran out, and the server with them.
 *
 * <p>Why the oldest goes, not the newcomer, and why marked connections do not count: the driver
 * treats a refused new connection as the store gone, and drops every connection it has to it, its
 * monitors included. A bound that refused newcomers let a flood of idle connections cut the auth
 * server off from its own store. Here a newcomer always gets in; the store's own clients mark
 * every connection in its first message (a monitor's too, which never authenticates), from then
 * on it no longer counts, and one that authenticates no longer counts either. So a flood closes
 * its own connections, or another unmarked client's that has not authenticated yet.
 *
 * <p>One instance per listener, shared by its connections.
 */
@ChannelHandler.Sharable
final class UnauthenticatedConnectionLimit extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(UnauthenticatedConnectionLimit.class);
  /** Set on a connection while it counts against a limit; cleared when it authenticates, is marked or closes. */
  private static final AttributeKey<UnauthenticatedConnectionLimit> COUNTED_BY =
      AttributeKey.valueOf(UnauthenticatedConnectionLimit.class, "countedBy");

  /**
   * Connections open at once that have neither authenticated nor shown the store's mark: the
   * store's own clients mark theirs, so these are other clients' (a tool reading the store through
   * the URI file) in the milliseconds before they authenticate, and anything else. Each holds at
   * most about 20 KiB of heap before authenticating, so the bound holds them to about 5 MiB.
   */
  static final int MAX_UNAUTHENTICATED = 256;

  private final int max;
  /** The connections that count, oldest first. */
  private final LinkedHashSet<Channel> counted = new LinkedHashSet<>();

  UnauthenticatedConnectionLimit(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("at least one unauthenticated connection must be allowed, not " + max);
    }
    this.max = max;
  }

  /** Connections open now that count against the bound. */
  synchronized int unauthenticated() {
    return counted.size();
  }

  /**
   * {@code channel} authenticated, or showed the store's mark (called on a command thread): it no
   * longer counts, and is never closed for the bound.
   */
  static void release(Channel channel) {
    UnauthenticatedConnectionLimit limit = channel.attr(COUNTED_BY).getAndSet(null);
    if (limit != null) {
      limit.forget(channel);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    Channel channel = ctx.channel();
    channel.attr(COUNTED_BY).set(this);
    Channel oldest = null;
    synchronized (this) {
      counted.add(channel);
      if (counted.size() > max) {
        Iterator<Channel> first = counted.iterator();
        oldest = first.next();
        first.remove();
      }
    }
    ctx.fireChannelActive();
    // unless it authenticated or was marked meanwhile (then it is no longer counted, and stays)
    if (oldest != null && oldest.attr(COUNTED_BY).getAndSet(null) != null) {
      ConnectionWarnings.warn(oldest, log, "embedded store: closing unauthenticated connection {}: the oldest of"
          + " {} open that have not authenticated, to let a new one in", oldest.remoteAddress(), max);
      oldest.close();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    release(ctx.channel());
    ctx.fireChannelInactive();
  }

  private synchronized void forget(Channel channel) {
    counted.remove(channel);
  }
}
