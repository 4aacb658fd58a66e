package dev.authservice.server.audit.chain;

import dev.authservice.server.audit.AuditEvent;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Hashes;
import java.util.ArrayList;
import java.util.List;

/**
 * Seals events into this writer's chain, in the order they are written: each gets the next
 * {@code seq}, the previous event's hash as {@code prev_hash}, and its own hash. A chain is one
 * writer process run ({@code chain} = instance id and start time), so no two writers ever
 * share a chain and seq numbers have no gaps.
 */
public final class AuditChains {
  private final String chain;
  private long seq;
  private String lastHash = Hashes.ZERO;

  public AuditChains(String chain) {
    this.chain = chain;
  }

  /** The chain id of a writer process run. */
  public static String chainId(String instanceId, long startEpochMillis) {
    return instanceId + ":" + startEpochMillis;
  }

  public String chain() {
    return chain;
  }

  /** Seals the batch in order; only the writer thread calls this. */
  public List<AuditEvent> seal(List<AuditEvent> batch) {
    List<AuditEvent> sealed = new ArrayList<>(batch.size());
    for (AuditEvent event : batch) {
      seq++;
      AuditEvent positioned = event.sealed(chain, seq, lastHash, "");
      String hash = Hashes.of(toChained(positioned));
      sealed.add(positioned.sealed(chain, seq, lastHash, hash));
      lastHash = hash;
    }
    return sealed;
  }

  /** The integrity layer's view of an event: every hashed field, times in milliseconds. */
  public static ChainedEvent toChained(AuditEvent e) {
    return new ChainedEvent(e.id(), e.time().toEpochMilli(), e.type().storedName(), e.outcome().storedName(),
        e.username(), e.subject(), e.tokenId(), e.clientIp(), e.userAgent(), e.rpcMethod(), e.reason(), e.instance(),
        e.actor(), e.peerIdentity(), e.traceId(), e.count(), e.firstTime().toEpochMilli(), e.lastTime().toEpochMilli(),
        e.alert().map(a -> new ChainedEvent.Alert(a.rule(), a.severity(), a.summary(), a.evidenceEventIds(),
            a.count())), e.chain(), e.seq(), e.prevHash(), e.hash());
  }
}
