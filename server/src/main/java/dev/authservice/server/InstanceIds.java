package dev.authservice.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.function.Supplier;

/** Names a server process in audit events: host name plus a random suffix, unique per run. */
final class InstanceIds {
  /** Linux: the host name of the server's UTS namespace (a container's or a pod's own). */
  static final Path KERNEL_HOST_NAME = Path.of("/proc/sys/kernel/hostname");
  /**
   * A host name as hosts and pods are named. The kernel takes any bytes: one with others (or
   * its unset "(none)") is resolved instead, as every host name was before.
   */
  private static final java.util.regex.Pattern PLAIN_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private InstanceIds() {}

  static String generate() {
    return generate(KERNEL_HOST_NAME, InstanceIds::resolvedHostName);
  }

  /**
   * The host name as the kernel has it, read from {@code hostNameFile}, or else from
   * {@code elsewhere}. The file comes first because it is only the name: {@code
   * InetAddress.getLocalHost()} also resolves it, a lookup that took 35-40 ms of a start on a
   * 2-core machine with the name in /etc/hosts, and that waits for DNS timeouts (seconds) on a
   * host whose name does not resolve.
   */
  static String generate(Path hostNameFile, Supplier<String> elsewhere) {
    String host = kernelHostName(hostNameFile);
    if (host.isEmpty()) {
      host = elsewhere.get();
    }
    byte[] suffix = new byte[3];
    new SecureRandom().nextBytes(suffix);
    return host + "-" + HexFormat.of().formatHex(suffix);
  }

  private static String kernelHostName(Path file) {
    try {
      String name = Files.readString(file).strip();
      return PLAIN_NAME.matcher(name).matches() ? name : "";
    } catch (IOException | RuntimeException e) {
      return "";   // not Linux, or no /proc: the host name is resolved instead
    }
  }

  private static String resolvedHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "host";
    }
  }
}
