package dev.authservice.client.integrity;

import com.google.protobuf.Timestamp;
import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.Checkpoint;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.AuditEvent;
import java.util.Optional;

/** auth.v1 messages as the integrity layer sees them, for verifying an export offline. */
public final class ProtoIntegrity {
  private ProtoIntegrity() {}

  static long millis(Timestamp ts) {
    return ts.getSeconds() * 1000 + ts.getNanos() / 1_000_000;
  }

  public static ChainedEvent event(AuditEvent e) {
    long time = millis(e.getTime());
    Optional<ChainedEvent.Alert> alert = e.hasAlert()
        ? Optional.of(new ChainedEvent.Alert(e.getAlert().getRule(), e.getAlert().getSeverity(),
            e.getAlert().getSummary(), e.getAlert().getEvidenceEventIdsList(), e.getAlert().getCount()))
        : Optional.empty();
    return new ChainedEvent(e.getId(), time, e.getType().name(), e.getOutcome().name(), e.getUsername(),
        e.getSubject(), e.getTokenId(), e.getClientIp(), e.getUserAgent(), e.getRpcMethod(), e.getReason(),
        e.getInstance(), e.getActor(), e.getPeerIdentity(), e.getTraceId(), e.getCount(),
        e.hasFirstTime() ? millis(e.getFirstTime()) : time, e.hasLastTime() ? millis(e.getLastTime()) : time,
        alert, e.getChain(), e.getSeq(), e.getPrevHash(), e.getHash());
  }

  public static Checkpoint checkpoint(AuditCheckpoint c) {
    Checkpoint.Kind kind;
    try {
      kind = Checkpoint.Kind.valueOf(c.getKind());
    } catch (IllegalArgumentException e) {
      kind = Checkpoint.Kind.PERIODIC;
    }
    return new Checkpoint(kind, c.getChain(), c.getSeq(), c.getHash(), millis(c.getTime()),
        c.getHeadsList().stream().map(h -> new Checkpoint.Head(h.getChain(), h.getSeq(), h.getHash())).toList(),
        c.getPrevCheckpointHash(), c.getSignature(), c.getLostList().stream().map(l -> new Checkpoint.Lost(
            l.getFromSeq(), l.getToSeq(), l.getPrevHash(), l.getHash(), l.getReason())).toList());
  }
}
