package dev.authservice.server;

/**
 * Prints whether this JVM's heap is one the JVM chose ({@link JvmRelaunch.Heap#current()}), for
 * LauncherTest to start with heap flags of its choice.
 */
public final class HeapProbe {
  private HeapProbe() {}

  public static void main(String[] args) {
    System.out.println("chosenByJvm=" + JvmRelaunch.Heap.current().chosenByJvm());
  }
}
