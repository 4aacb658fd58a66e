package dev.authservice.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Prints a free loopback port, for scripts that start a server for a benchmark. */
public final class FreePort {
  private FreePort() {}

  public static void main(String[] args) throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      System.out.println(socket.getLocalPort());
    }
  }
}
