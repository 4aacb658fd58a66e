package dev.authservice.server.core;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A client address as limits and counts group it: IPv4 as it is, IPv6 by its /64, the block one
 * host or customer usually holds, so one attacker cannot look like many.
 */
public final class AddressBlocks {
  private static final Pattern IP_LITERAL = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  private AddressBlocks() {}

  public static String of(String clientIp) {
    if (clientIp.indexOf(':') < 0 || !IP_LITERAL.matcher(clientIp).matches()) {
      return clientIp;
    }
    try {
      byte[] bytes = InetAddress.getByName(clientIp).getAddress();
      return bytes.length == 16 ? HexFormat.of().formatHex(bytes, 0, 8) + "::/64" : clientIp;
    } catch (UnknownHostException e) {
      return clientIp;
    }
  }
}
