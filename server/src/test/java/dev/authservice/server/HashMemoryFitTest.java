package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.password.HashParams;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The Argon2id memory cost against the machine's memory: refused when one hash cannot fit the
 * machine, fewer hashes at once than cores where the memory beside the heap holds fewer.
 */
class HashMemoryFitTest {
  private static final long MIB = 1024 * 1024;

  @Test
  void oneHashLargerThanTheMachineIsRefusedNamingTheSetting() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> HashMemoryFit.plan(new HashParams(1024 * 1024, 2, 1), 2, 96 * MIB, 512 * MIB));
    assertEquals("AUTH_ARGON2_MEMORY_KIB (for --argon2-memory-kib): 1048576 KiB is 1024 MiB for each password hash,"
        + " more than the 512 MiB of memory this machine has (its container's limit, if it has one)",
        refused.getMessage());
  }

  @Test
  void aSmallContainerOnANodeOfManyCoresHashesAsManyAsFitNotOnePerCore() {
    // the documented pod: a 512 MiB limit, a 256 MiB heap, no CPU limit on a node of 32 cores
    HashMemoryFit.Plan plan = HashMemoryFit.plan(HashParams.OWASP_DEFAULT, 32, 256 * MIB, 512 * MIB);
    assertEquals(5, plan.hashesAtOnce(), "(512 - 256 - 160) / 19 MiB");
    assertTrue(plan.info().orElseThrow().startsWith("Argon2id: 5 password hashes at once, not one per core (32): 5"
        + " of 19 MiB fit beside a heap of up to 256 MiB"), plan.info().get());
    assertEquals(Optional.empty(), plan.warning());
  }

  @Test
  void onTwoCoresTheDefaultRunsOnePerCore() {
    assertEquals(new HashMemoryFit.Plan(2, Optional.empty(), Optional.empty()),
        HashMemoryFit.plan(HashParams.OWASP_DEFAULT, 2, 256 * MIB, 512 * MIB));
    assertEquals(new HashMemoryFit.Plan(2, Optional.empty(), Optional.empty()),
        HashMemoryFit.plan(HashParams.OWASP_DEFAULT, 2, 96 * MIB, 24L * 1024 * MIB));
  }

  @Test
  void aHashThatFitsTheMachineButNotBesideTheHeapRunsOneAtATimeWithAWarning() {
    HashMemoryFit.Plan plan = HashMemoryFit.plan(new HashParams(300 * 1024, 2, 1), 2, 256 * MIB, 512 * MIB);
    assertEquals(1, plan.hashesAtOnce());
    assertTrue(plan.warning().orElseThrow().startsWith("Argon2id: not even one password hash of 300 MiB fits beside"
        + " a heap of up to 256 MiB"), plan.warning().get());
  }

  @Test
  void theMachinesMemoryIsReadWhereTheJvmCanSay() {
    HashMemoryFit.machineMemoryBytes().ifPresent(bytes -> assertTrue(bytes > 256 * MIB, bytes + " bytes"));
  }
}
