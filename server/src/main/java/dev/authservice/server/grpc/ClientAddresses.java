package dev.authservice.server.grpc;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Finds the client's address: the connection's peer, or, when that peer is a configured trusted
 * proxy, the right-most address in {@code x-forwarded-for} that is not itself a trusted proxy.
 * A forwarded header from anyone else is ignored, so a client cannot choose its own address.
 */
final class ClientAddresses {
  /**
   * What {@link InetAddress#getByName} takes as a literal, never as a name to look up: an IPv6
   * form (a colon, and a hex digit or colon first: a malformed one then fails without a lookup)
   * or four dotted decimals of at most 255 (the JDK looks up {@code 999.1.1.1} as a name).
   * Hex letters without a colon ({@code bad.cafe}) would be a host name, resolved by DNS.
   */
  private static final String OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  private static final Pattern IP_LITERAL = Pattern.compile(
      "(?=[0-9A-Fa-f.]{0,44}:)[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}|" + OCTET + "(?:\\." + OCTET + "){3}");
  private final List<Cidr> trustedProxies;

  ClientAddresses(List<String> trustedProxyCidrs) {
    this.trustedProxies = trustedProxyCidrs.stream().map(Cidr::parse).toList();
  }

  String resolve(SocketAddress peer, String forwardedFor) {
    if (!(peer instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return peer == null ? "" : peer.toString();
    }
    InetAddress address = inet.getAddress();
    if (forwardedFor == null || forwardedFor.isEmpty() || !isTrusted(address)) {
      return address.getHostAddress();
    }
    String[] hops = forwardedFor.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      InetAddress hop = parseLiteral(hops[i].trim());
      if (hop == null) {
        break;
      }
      address = hop;
      if (!isTrusted(hop)) {
        break;
      }
    }
    return address.getHostAddress();
  }

  /** Whether the connection's own peer is one of the trusted proxies. */
  boolean isTrustedProxy(SocketAddress peer) {
    return peer instanceof InetSocketAddress inet && inet.getAddress() != null && isTrusted(inet.getAddress());
  }

  private boolean isTrusted(InetAddress address) {
    for (Cidr cidr : trustedProxies) {
      if (cidr.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** Parses an IP literal without any DNS lookup; null if it is not one. */
  static InetAddress parseLiteral(String text) {
    if (!IP_LITERAL.matcher(text).matches()) {
      return null;
    }
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** An address block such as {@code 10.0.0.0/8} or {@code fd00::/8}. */
  record Cidr(byte[] network, int prefixLength) {
    static Cidr parse(String text) {
      String[] parts = text.trim().split("/", 2);
      InetAddress base = parseLiteral(parts[0]);
      if (base == null) {
        throw new IllegalArgumentException("not an IP address block: " + text);
      }
      int bits = base.getAddress().length * 8;
      int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : bits;
      if (prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException("bad prefix length in " + text);
      }
      return new Cidr(base.getAddress(), prefix);
    }

    boolean contains(InetAddress address) {
      byte[] candidate = address.getAddress();
      if (candidate.length != network.length) {
        return false;
      }
      int full = prefixLength / 8;
      for (int i = 0; i < full; i++) {
        if (candidate[i] != network[i]) {
          return false;
        }
      }
      int rest = prefixLength % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (candidate[full] & mask) == (network[full] & mask);
    }
  }
}
