package dev.authservice.embedded;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Until its connection has authenticated, closes it at the first frame that announces more than
 * {@link #MAX_FRAME_BYTES}, and when a frame stays half received for {@link #PARTIAL_FRAME_TIMEOUT}.
 *
 * <p>The library's frame decoder, behind this handler, buffers a frame of up to 48 MB whole
 * before decoding it, for any connection: a few local processes without the credential, each
 * announcing one (or trickling it in), could take the store's heap, which is the auth server's
 * (96-128 MiB). Before authentication a connection may only say hello, ping and run SCRAM, all
 * messages of a few hundred bytes. This handler reads each frame's length field (the first 4 bytes
 * of the MongoDB wire header, a little-endian int32 counting the whole message) as soon as those 4
 * bytes arrived, and passes every byte on untouched: it keeps no data, only where the next header
 * begins. Once the connection has authenticated ({@link #authenticated(Channel)}), it removes
 * itself at the next read, and the library's own limit applies.
 *
 * <p>One handler per connection, used on its I/O thread only.
 */
final class UnauthenticatedFrameLimit extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(UnauthenticatedFrameLimit.class);
  private static final AttributeKey<Boolean> AUTHENTICATED =
      AttributeKey.valueOf(UnauthenticatedFrameLimit.class, "authenticated");

  /**
   * The largest frame an unauthenticated connection may send. The largest mongodb-driver-sync
   * (5.14) sends before and while authenticating is its first hello, with the client metadata
   * (which the handshake specification caps at 512 bytes) and the speculative saslStart: 537
   * bytes measured against this store; its saslContinue messages are about 200, its monitor's
   * hellos 180, and SCRAM's messages are refused above {@link ScramSha256Server#MAX_MESSAGE_CHARS}
   * (1 KiB) anyway. 16 KiB is some thirty times the largest real one, and holds at most 16 KiB of
   * heap per unauthenticated connection instead of 48 MB.
   */
  static final int MAX_FRAME_BYTES = 16 * 1024;
  /**
   * How long a frame of an unauthenticated connection may stay half received (while the
   * connection is being read). A client sends each message in one write, which arrives on
   * loopback within milliseconds; 10 s is far beyond any pause of a real client, and closes a
   * connection that trickles its frames in to hold a socket and its buffers open.
   */
  static final Duration PARTIAL_FRAME_TIMEOUT = Duration.ofSeconds(10);
  /**
   * Messages that may begin in one read before authentication. A client waits for each answer
   * before it authenticates (hello, then SCRAM's steps), so a read holds one message or the end
   * of one and the start of the next; the listener stops reading a connection while its requests
   * wait, but the messages already in a read are all decoded and queued, and a pipelining client
   * packs hundreds of small ones into each (pings it never reads the answers of: their replies
   * would pile up in the connection's outbound buffer).
   */
  static final int MAX_FRAMES_PER_READ = 2;
  /** The MongoDB wire header: messageLength, requestID, responseTo, opCode, 4 bytes each. */
  private static final int HEADER_BYTES = 16;
  private static final int LENGTH_FIELD_BYTES = 4;

  private final int maxFrameBytes;
  private final int maxFramesPerRead;
  private final long partialFrameTimeoutNanos;

  /** Bytes of the current frame's length field seen so far (0 to 4; 4 while in its body). */
  private int lengthBytesSeen;
  /** The current frame's length field, as far as seen. */
  private int announced;
  /** Bytes of the current frame still to come after its length field. */
  private long bodyBytesLeft;
  /** Frames begun on this connection, so that a timer knows whether its frame ended. */
  private long framesBegun;
  /** The frame a timer watches, or -1. */
  private long timedFrame = -1;
  private ScheduledFuture<?> timer;
  private boolean refused;
  private boolean removed;

  UnauthenticatedFrameLimit(int maxFrameBytes, int maxFramesPerRead, Duration partialFrameTimeout) {
    this.maxFrameBytes = maxFrameBytes;
    this.maxFramesPerRead = maxFramesPerRead;
    this.partialFrameTimeoutNanos = partialFrameTimeout.toNanos();
  }

  /**
   * Lifts the limit on {@code channel}: called by the backend once the connection has
   * authenticated, on a command thread, before its answer is written; the handler sees it at the
   * connection's next read (a client sends its next message after that answer).
   */
  static void authenticated(Channel channel) {
    channel.attr(AUTHENTICATED).set(Boolean.TRUE);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object message) {
    if (refused) {
      ReferenceCountUtil.release(message);
      return;
    }
    if (isAuthenticated(ctx.channel())) {
      ctx.fireChannelRead(message);
      ctx.pipeline().remove(this);
      return;
    }
    if (message instanceof ByteBuf bytes && !withinLimit(ctx, bytes)) {
      refused = true;
      bytes.release();
      ctx.close();
      return;
    }
    ctx.fireChannelRead(message);
    if (midFrame()) {
      watch(ctx);
    } else {
      stopWatching();
    }
  }

  static boolean isAuthenticated(Channel channel) {
    return channel.hasAttr(AUTHENTICATED) && channel.attr(AUTHENTICATED).get() != null;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    // once authenticated, or when the connection closes
    removed = true;
    stopWatching();
  }

  /** Follows the frames in {@code bytes}, without moving its reader index; false at a frame over the limit. */
  private boolean withinLimit(ChannelHandlerContext ctx, ByteBuf bytes) {
    int at = bytes.readerIndex();
    int end = bytes.writerIndex();
    int begunHere = 0;
    while (at < end) {
      if (bodyBytesLeft > 0) {
        int skipped = (int) Math.min(bodyBytesLeft, end - at);
        bodyBytesLeft -= skipped;
        at += skipped;
        continue;
      }
      if (lengthBytesSeen == LENGTH_FIELD_BYTES) {   // the previous frame ended: a new one begins
        lengthBytesSeen = 0;
        announced = 0;
      }
      if (lengthBytesSeen == 0) {
        framesBegun++;
        if (++begunHere > maxFramesPerRead) {
          ConnectionWarnings.warn(ctx.channel(), log, "embedded store: closing unauthenticated connection {}: it sent"
              + " messages without waiting for the answers; before authentication a client sends one at a time",
              ctx.channel().remoteAddress());
          return false;
        }
      }
      announced |= (bytes.getByte(at++) & 0xff) << (8 * lengthBytesSeen++);
      if (lengthBytesSeen == LENGTH_FIELD_BYTES) {
        if (announced < HEADER_BYTES || announced > maxFrameBytes) {
          // once per connection, which this closes, as a failed authentication is logged
          ConnectionWarnings.warn(ctx.channel(), log, "embedded store: closing unauthenticated connection {}: it"
              + " announced a message of {} bytes; "
              + "before authentication {} to {} are accepted", ctx.channel().remoteAddress(),
              Integer.toUnsignedString(announced), HEADER_BYTES, maxFrameBytes);
          return false;
        }
        bodyBytesLeft = announced - LENGTH_FIELD_BYTES;
      }
    }
    return true;
  }

  private boolean midFrame() {
    return bodyBytesLeft > 0 || (lengthBytesSeen > 0 && lengthBytesSeen < LENGTH_FIELD_BYTES);
  }

  /** Closes the connection if the frame now half received is still so after the timeout. */
  private void watch(ChannelHandlerContext ctx) {
    if (timedFrame == framesBegun) {
      return;
    }
    stopWatching();
    timedFrame = framesBegun;
    long frame = framesBegun;
    timer = ctx.executor().schedule(() -> expire(ctx, frame), partialFrameTimeoutNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Cancels the timer of a frame that ended: one timer per connection, not one per frame that
   * spanned two reads (a client whose every write ends one message and begins the next would
   * otherwise leave a timer behind per message, each holding the connection for 10 s).
   */
  private void stopWatching() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    timedFrame = -1;
  }

  private void expire(ChannelHandlerContext ctx, long frame) {
    if (removed || refused || framesBegun != frame || !midFrame() || !ctx.channel().isActive()
        || isAuthenticated(ctx.channel())) {
      return;
    }
    if (!ctx.channel().config().isAutoRead()) {
      // the store stopped reading it (answers waiting): the rest of the frame waits in the socket, not on the client
      timer = null;   // this one has fired
      watch(ctx);
      return;
    }
    refused = true;
    ConnectionWarnings.warn(ctx.channel(), log, "embedded store: closing unauthenticated connection {}: a message"
        + " half received for {} ms",
        ctx.channel().remoteAddress(), TimeUnit.NANOSECONDS.toMillis(partialFrameTimeoutNanos));
    ctx.close();
  }
}
