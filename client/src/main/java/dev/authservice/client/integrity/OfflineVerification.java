package dev.authservice.client.integrity;

import dev.authservice.integrity.ChainedEvent;
import dev.authservice.integrity.CheckpointSignatures;
import dev.authservice.integrity.TrailReport;
import dev.authservice.integrity.TrailVerifier;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.AuditEvent;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Verifies an export with nothing but the audit public keys: the same checks as VerifyAudit,
 * on the events and checkpoints in the file. Each chain is verified from a signed head: seq 1,
 * a purge checkpoint, or, in an export made from a start time, the chain's own newest signed
 * checkpoint at or before that time (where the server's export started it); its first event
 * must link to that head. The header's start time is not signed and only chooses among signed
 * heads. Every event in the file is checked or reported: one before its chain's head counts
 * only if it links up to that head's signed hash, and one that names no chain is a problem.
 */
public final class OfflineVerification {
  private OfflineVerification() {}

  /** The verdict, and the window the header claims. */
  public record Result(TrailReport report, int version, Optional<Instant> start, Optional<Instant> end) {}

  public static Result verify(Path export, String auditKeysJson) {
    ExportFile.Contents contents = ExportFile.read(export);
    TrailVerifier verifier = new TrailVerifier(CheckpointSignatures.fromJwkSet(auditKeysJson),
        new TrailVerifier.Window(contents.start().map(Instant::toEpochMilli).orElse(null), null));
    for (AuditCheckpoint checkpoint : contents.checkpoints()) {
      verifier.checkpoint(ProtoIntegrity.checkpoint(checkpoint));
    }
    Map<String, List<ChainedEvent>> byChain = new TreeMap<>();
    long unchained = 0;
    for (AuditEvent event : contents.events()) {
      if (event.getChain().isEmpty()) {
        unchained++;
      } else {
        byChain.computeIfAbsent(event.getChain(), k -> new ArrayList<>()).add(ProtoIntegrity.event(event));
      }
    }
    verifier.unchained(unchained);
    for (String chain : verifier.chainsToVerify(byChain.keySet())) {
      List<ChainedEvent> events = byChain.getOrDefault(chain, new ArrayList<>());
      events.sort(Comparator.comparingLong(ChainedEvent::seq));
      verifier.chain(chain, events.iterator());
    }
    return new Result(verifier.finish(), contents.version(), contents.start(), contents.end());
  }
}
