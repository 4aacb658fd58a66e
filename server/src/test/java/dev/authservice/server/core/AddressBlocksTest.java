package dev.authservice.server.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** Client addresses as limits and counts group them: IPv4 as it is, IPv6 by its /64. */
class AddressBlocksTest {
  @Test
  void anIpv4AddressIsItsOwnBlock() {
    assertEquals("192.0.2.1", AddressBlocks.of("192.0.2.1"));
    assertNotEquals(AddressBlocks.of("192.0.2.1"), AddressBlocks.of("192.0.2.2"));
  }

  @Test
  void anIpv6AddressCountsByItsSlash64HoweverItIsWritten() {
    assertEquals("20010db800010002::/64", AddressBlocks.of("2001:db8:1:2::1"));
    assertEquals(AddressBlocks.of("2001:db8:1:2::1"), AddressBlocks.of("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    assertEquals(AddressBlocks.of("2001:db8:1:2::1"), AddressBlocks.of("2001:0DB8:0001:0002:0000:0000:0000:0009"));
    assertNotEquals(AddressBlocks.of("2001:db8:1:2::1"), AddressBlocks.of("2001:db8:1:3::1"));
  }

  @Test
  void whatIsNoAddressLiteralIsKeptAsItIsAndNeverLookedUp() {
    // a name with a colon (a peer written as host:port) would otherwise be a DNS lookup on the request path
    assertEquals("attacker.example:443", AddressBlocks.of("attacker.example:443"));
    assertEquals("cafe:face", AddressBlocks.of("cafe:face"), "hex and colons, but no IPv6 address");
    assertEquals("", AddressBlocks.of(""));
    assertEquals("unknown", AddressBlocks.of("unknown"));
  }
}
