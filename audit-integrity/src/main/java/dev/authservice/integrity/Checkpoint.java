package dev.authservice.integrity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A signed statement about the trail. A {@code PERIODIC} or {@code SHUTDOWN} checkpoint says
 * how far its own chain had come ({@code seq}, {@code hash}), how far every other chain had
 * ({@code heads}), and which checkpoint of its chain came before ({@code prevCheckpointHash}).
 * A {@code PURGE} checkpoint says retention removed {@code chain} up to and including
 * {@code seq}, whose hash was {@code hash}.
 */
public record Checkpoint(
    Kind kind,
    String chain,
    long seq,
    String hash,
    long time,
    List<Head> heads,
    String prevCheckpointHash,
    String signature) {

  public enum Kind { PERIODIC, SHUTDOWN, PURGE }

  /** How far one chain had come. */
  public record Head(String chain, long seq, String hash) {}

  public Checkpoint {
    heads = heads.stream().sorted(Comparator.comparing(Head::chain)).toList();
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
    return CanonicalJson.encode(m);
  }

  /** SHA-256 of the payload: what the next checkpoint of the chain names, and what the server logs. */
  public String checkpointHash() {
    return Hashes.sha256(payload());
  }

  public Checkpoint withSignature(String jws) {
    return new Checkpoint(kind, chain, seq, hash, time, heads, prevCheckpointHash, jws);
  }
}
