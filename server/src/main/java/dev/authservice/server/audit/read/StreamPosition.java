package dev.authservice.server.audit.read;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a StreamAudit feed stands, in a form whose size does not grow with the number of chains
 * ever written: a {@code floor} time, a {@code mark} time, and a position (last seq handled) for
 * at most {@link #MAX_CHAINS} chains, each named by a fixed-size hash of its id.
 *
 * <p>Meaning: in a listed chain, exactly the events up to its seq were handled (delivered or
 * filtered out); in any other chain, exactly the events timed at or before {@code floor}.
 * {@code mark} is the latest time handled, kept so that a resumed stream knows how recent its
 * listed chains' events may be. {@link #NONE} stands for "no such time".
 *
 * <p>Binary form: a format byte, floor and mark as zig-zag varints, the count as a varint, then
 * per chain 12 bytes of SHA-256 of its id and the seq as a varint. At most
 * {@link #MAX_ENCODED_BYTES} bytes, whatever the chain ids or seq numbers.
 */
public record StreamPosition(long floor, long mark, Map<ChainKey, Long> chains) {
  public static final long NONE = Long.MIN_VALUE;
  /** Chains listed by position at most; see AuditStream for which are chosen. */
  public static final int MAX_CHAINS = 64;
  static final int KEY_BYTES = 12;
  private static final int FORMAT = 1;
  private static final int MAX_VARLONG = 10;
  public static final int MAX_ENCODED_BYTES = 1 + 2 * MAX_VARLONG + 2 + MAX_CHAINS * (KEY_BYTES + MAX_VARLONG);

  public static final StreamPosition START = new StreamPosition(NONE, NONE, Map.of());

  public StreamPosition {
    chains = Map.copyOf(chains);
    if (chains.size() > MAX_CHAINS) {
      throw new IllegalArgumentException("at most " + MAX_CHAINS + " chain positions, got " + chains.size());
    }
    for (long seq : chains.values()) {
      if (seq < 0) {
        throw new IllegalArgumentException("a seq is never negative");
      }
    }
  }

  /** A chain named by the first 12 bytes of SHA-256 of its id: 96 bits, so ids never collide in practice. */
  public record ChainKey(long high, int low) {
    public static ChainKey of(String chain) {
      try {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(chain.getBytes(StandardCharsets.UTF_8));
        ByteBuffer b = ByteBuffer.wrap(digest);
        return new ChainKey(b.getLong(), b.getInt());
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A position of the first kind of resume token: every chain by id, no floor (unlisted chains start afresh). */
  public static StreamPosition ofChainIds(Map<String, Long> positions) {
    Map<ChainKey, Long> keyed = new HashMap<>();
    positions.forEach((chain, seq) -> keyed.put(ChainKey.of(chain), seq));
    return new StreamPosition(NONE, NONE, keyed);
  }

  public byte[] toBytes() {
    // written straight into an array: a stream encodes a position with every event it sends
    byte[] out = new byte[1 + 2 * MAX_VARLONG + MAX_VARLONG + chains.size() * (KEY_BYTES + MAX_VARLONG)];
    int at = 0;
    out[at++] = FORMAT;
    at = writeVarLong(out, at, zigZag(floor));
    at = writeVarLong(out, at, zigZag(mark));
    at = writeVarLong(out, at, chains.size());
    // a stable order: equal positions encode equally
    @SuppressWarnings("unchecked")
    Map.Entry<ChainKey, Long>[] entries = chains.entrySet().toArray(new Map.Entry[0]);
    if (entries.length > 1) {
      java.util.Arrays.sort(entries, KEY_ORDER);
    }
    for (Map.Entry<ChainKey, Long> e : entries) {
      at = writeLong(out, at, e.getKey().high());
      at = writeInt(out, at, e.getKey().low());
      at = writeVarLong(out, at, e.getValue());
    }
    return java.util.Arrays.copyOf(out, at);
  }

  private static final java.util.Comparator<Map.Entry<ChainKey, Long>> KEY_ORDER = Map.Entry.comparingByKey(
      java.util.Comparator.comparingLong(ChainKey::high).thenComparingInt(ChainKey::low));

  private static int writeLong(byte[] out, int at, long v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      out[at++] = (byte) (v >>> shift);
    }
    return at;
  }

  private static int writeInt(byte[] out, int at, int v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      out[at++] = (byte) (v >>> shift);
    }
    return at;
  }

  /** Reads {@link #toBytes()}; IllegalArgumentException for anything else. */
  public static StreamPosition fromBytes(byte[] bytes) {
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      if (in.get() != FORMAT) {
        throw new IllegalArgumentException("unknown stream position format");
      }
      long floor = unZigZag(readVarLong(in));
      long mark = unZigZag(readVarLong(in));
      long count = readVarLong(in);
      if (count < 0 || count > MAX_CHAINS) {
        throw new IllegalArgumentException("bad chain count");
      }
      Map<ChainKey, Long> chains = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        ChainKey key = new ChainKey(in.getLong(), in.getInt());
        if (chains.put(key, readVarLong(in)) != null) {
          throw new IllegalArgumentException("a chain twice");
        }
      }
      if (in.hasRemaining()) {
        throw new IllegalArgumentException("trailing bytes");
      }
      return new StreamPosition(floor, mark, chains);
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated stream position");
    }
  }

  private static long zigZag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  private static long unZigZag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  private static int writeVarLong(byte[] out, int at, long v) {
    while ((v & ~0x7FL) != 0) {
      out[at++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[at++] = (byte) v;
    return at;
  }

  private static long readVarLong(ByteBuffer in) {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = in.get();
      value |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return value;
      }
    }
    throw new IllegalArgumentException("varint too long");
  }
}
