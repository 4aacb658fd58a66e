package dev.authservice.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CheckpointSignaturesTest {
  private static KeyPair ed25519() throws Exception {
    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  private static Checkpoint checkpoint() {
    return new Checkpoint(Checkpoint.Kind.PERIODIC, "i:1", 3, "ab".repeat(32), 1_780_000_000_000L,
        List.of(new Checkpoint.Head("z:2", 9, "cd".repeat(32)), new Checkpoint.Head("a:3", 1, "ef".repeat(32))),
        Hashes.ZERO, "");
  }

  @Test
  void aSignedCheckpointVerifiesAndAnyChangeOrForeignKeyDoesNot() throws Exception {
    KeyPair keys = ed25519();
    Checkpoint signed = checkpoint().withSignature(CheckpointSignatures.sign(checkpoint(), keys.getPrivate(), "k1"));
    CheckpointSignatures trusted = CheckpointSignatures.of(Map.of("k1", keys.getPublic()));
    assertEquals(Optional.empty(), trusted.problem(signed));

    Checkpoint altered = new Checkpoint(signed.kind(), signed.chain(), signed.seq() + 1, signed.hash(), signed.time(),
        signed.heads(), signed.prevCheckpointHash(), signed.signature());
    assertEquals(Optional.of("its content differs from what was signed"), trusted.problem(altered));
    assertTrue(CheckpointSignatures.of(Map.of("k1", ed25519().getPublic())).problem(signed).orElseThrow()
        .contains("does not verify"));
    assertTrue(CheckpointSignatures.of(Map.of("k2", keys.getPublic())).problem(signed).orElseThrow()
        .contains("not an audit key"));
    assertTrue(trusted.problem(signed.withSignature("")).isPresent());
  }
}
