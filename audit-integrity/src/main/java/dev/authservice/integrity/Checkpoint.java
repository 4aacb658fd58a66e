package dev.authservice.integrity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A signed statement about the trail. A {@code PERIODIC} or {@code SHUTDOWN} checkpoint says
 * how far its own chain had come ({@code seq}, {@code hash}), how far other chains had
 * ({@code heads}: every registered chain with events in a run's first checkpoint, then each that
 * has not stopped with a signed shutdown checkpoint), and which checkpoint of its chain came before ({@code prevCheckpointHash}).
 * A {@code PURGE} checkpoint says retention removed {@code chain} up to and including
 * {@code seq}, whose hash was {@code hash}.
 *
 * <p>A periodic or shutdown checkpoint may also say which events of its own chain were
 * {@code lost}: sealed into the chain (their numbers and hashes given) but taken neither by the
 * store nor by the local spool. The verifier counts such numbers as lost, not as deleted, and
 * links the chain across them by the signed hashes.
 */
public record Checkpoint(
    Kind kind,
    String chain,
    long seq,
    String hash,
    long time,
    List<Head> heads,
    String prevCheckpointHash,
    String signature,
    List<Lost> lost) {

  public enum Kind { PERIODIC, SHUTDOWN, PURGE }

  /** How far one chain had come. */
  public record Head(String chain, long seq, String hash) {}

  /**
   * Events {@code fromSeq} to {@code toSeq} of the checkpoint's chain that were never written:
   * {@code prevHash} is the hash the first was chained to, {@code hash} the last one's (what the
   * next event is chained to), {@code reason} why they were lost.
   */
  public record Lost(long fromSeq, long toSeq, String prevHash, String hash, String reason) {
    public boolean covers(long seq) {
      return seq >= fromSeq && seq <= toSeq;
    }
  }

  public Checkpoint {
    heads = heads.stream().sorted(Comparator.comparing(Head::chain)).toList();
    lost = lost == null ? List.of() : lost.stream().sorted(Comparator.comparingLong(Lost::fromSeq)).toList();
  }

  public Checkpoint(Kind kind, String chain, long seq, String hash, long time, List<Head> heads,
      String prevCheckpointHash, String signature) {
    this(kind, chain, seq, hash, time, heads, prevCheckpointHash, signature, List.of());
  }

  /** The bytes that are signed and hashed: the canonical encoding of every field but the signature. */
  public byte[] payload() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("v", 1L);
    m.put("kind", kind.name());
    m.put("chain", chain);
    m.put("seq", seq);
    m.put("hash", hash);
    m.put("time", time);
    List<Object> h = new ArrayList<>(heads.size());
    for (Head head : heads) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("chain", head.chain());
      entry.put("seq", head.seq());
      entry.put("hash", head.hash());
      h.add(entry);
    }
    m.put("heads", h);
    m.put("prev_checkpoint_hash", prevCheckpointHash);
    if (!lost.isEmpty()) {
      // only when there are losses, so every checkpoint without any keeps its hash
      List<Object> l = new ArrayList<>(lost.size());
      for (Lost range : lost) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("from_seq", range.fromSeq());
        entry.put("to_seq", range.toSeq());
        entry.put("prev_hash", range.prevHash());
        entry.put("hash", range.hash());
        entry.put("reason", range.reason());
        l.add(entry);
      }
      m.put("lost", l);
    }
    return CanonicalJson.encode(m);
  }

  /** SHA-256 of the payload: what the next checkpoint of the chain names, and what the server logs. */
  public String checkpointHash() {
    return Hashes.sha256(payload());
  }

  public Checkpoint withSignature(String jws) {
    return new Checkpoint(kind, chain, seq, hash, time, heads, prevCheckpointHash, jws, lost);
  }
}
