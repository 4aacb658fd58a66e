package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.password.HashParams;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The Argon2id memory cost against the machine's memory: refused when one hash cannot fit, warned of when all at once cannot. */
class HashMemoryFitTest {
  private static final long MIB = 1024 * 1024;

  @Test
  void oneHashLargerThanTheMachineIsRefusedNamingTheSetting() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> HashMemoryFit.check(new HashParams(1024 * 1024, 2, 1), 2, 96 * MIB, 512 * MIB));
    assertEquals("AUTH_ARGON2_MEMORY_KIB (for --argon2-memory-kib): 1048576 KiB is 1024 MiB for each password hash,"
        + " more than the 512 MiB of memory this machine has (its container's limit, if it has one)",
        refused.getMessage());
  }

  @Test
  void hashesAtOnceThatOutgrowTheMachineBesideTheHeapAreWarnedOf() {
    // a 512 MiB container, a 256 MiB heap: two hashes of 128 MiB fit beside it, four do not
    HashParams params = new HashParams(128 * 1024, 2, 1);
    assertEquals(Optional.empty(), HashMemoryFit.check(params, 2, 256 * MIB, 512 * MIB));
    Optional<String> warning = HashMemoryFit.check(params, 4, 256 * MIB, 512 * MIB);
    assertTrue(warning.orElseThrow().startsWith("AUTH_ARGON2_MEMORY_KIB: 4 password hashes at once (one per core)"
        + " take 512 MiB beside a heap of up to 256 MiB, more than the 512 MiB"), warning.get());
  }

  @Test
  void theDefaultFitsASmallContainer() {
    assertEquals(Optional.empty(), HashMemoryFit.check(HashParams.OWASP_DEFAULT, 2, 256 * MIB, 512 * MIB));
  }

  @Test
  void theMachinesMemoryIsKnownHere() {
    assertTrue(HashMemoryFit.machineMemoryBytes().orElse(0) > 256 * MIB);
  }
}
