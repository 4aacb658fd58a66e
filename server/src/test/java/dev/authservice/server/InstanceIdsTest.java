package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstanceIdsTest {
  @Test
  void theKernelsHostNameComesWithoutAnyLookup(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("hostname"), "auth-7f9c-pod\n");
    AtomicInteger lookups = new AtomicInteger();
    String id = InstanceIds.generate(file, () -> {
      lookups.incrementAndGet();
      return "resolved";
    });
    assertTrue(id.matches("auth-7f9c-pod-[0-9a-f]{6}"), id);
    assertEquals(0, lookups.get(), "the name was read, not looked up");
    assertNotEquals(id, InstanceIds.generate(file, () -> "resolved"), "a random suffix per run");
  }

  @Test
  void withoutTheKernelsNameItIsResolved(@TempDir Path dir) throws Exception {
    assertTrue(InstanceIds.generate(dir.resolve("absent"), () -> "resolved").matches("resolved-[0-9a-f]{6}"));
    Path empty = Files.writeString(dir.resolve("empty"), " \n");
    assertTrue(InstanceIds.generate(empty, () -> "resolved").matches("resolved-[0-9a-f]{6}"));
    // the kernel's name when none was set, and one with a line break in it: not names to log as they are
    for (String odd : new String[] {"(none)\n", "a\nb\n", "x".repeat(65)}) {
      Path file = Files.writeString(dir.resolve("odd"), odd);
      assertTrue(InstanceIds.generate(file, () -> "resolved").matches("resolved-[0-9a-f]{6}"), odd);
    }
  }
}
