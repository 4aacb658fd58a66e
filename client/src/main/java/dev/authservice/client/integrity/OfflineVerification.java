package dev.authservice.client.integrity;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.CheckpointSignatures;
import dev.authservice.integrity.TrailReport;
import dev.authservice.integrity.TrailVerifier;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.AuditEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Verifies an export with nothing but the audit public keys: the same checks as VerifyAudit,
 * on the events and checkpoints in the file. An export that starts mid-chain is verified from
 * the first checkpoint before its start, or, for a chain without one, from its first event.
 */
public final class OfflineVerification {
  private OfflineVerification() {}

  public static TrailReport verify(Path export, String auditKeysJson) {
    ExportFile.Contents contents = ExportFile.read(export);
    TrailVerifier verifier = new TrailVerifier(CheckpointSignatures.fromJwkSet(auditKeysJson),
        new TrailVerifier.Window(contents.start().map(java.time.Instant::toEpochMilli).orElse(null), null,
            contents.start().isPresent()));
    for (AuditCheckpoint checkpoint : contents.checkpoints()) {
      verifier.checkpoint(ProtoIntegrity.checkpoint(checkpoint));
    }
    Map<String, List<ChainedEvent>> byChain = new TreeMap<>();
    for (AuditEvent event : contents.events()) {
      if (!event.getChain().isEmpty()) {
        byChain.computeIfAbsent(event.getChain(), k -> new ArrayList<>()).add(ProtoIntegrity.event(event));
      }
    }
    for (String chain : verifier.chainsToVerify(byChain.keySet())) {
      List<ChainedEvent> events = byChain.getOrDefault(chain, List.of());
      events.sort(Comparator.comparingLong(ChainedEvent::seq));
      verifier.chain(chain, events.iterator());
    }
    return verifier.finish();
  }
}
