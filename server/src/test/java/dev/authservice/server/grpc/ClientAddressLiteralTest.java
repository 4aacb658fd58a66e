package dev.authservice.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/**
 * A forwarded address is taken only as an IP literal: a name made of hex letters and dots
 * ({@code bad.cafe}) matched the old pattern and went to DNS, a blocking lookup on the call's
 * thread for every forwarded hop.
 */
class ClientAddressLiteralTest {
  @Test
  void onlyLiteralsAreParsedNeverNamesThatLookLikeThem() {
    for (String name : new String[] {"bad.cafe", "fee.de", "dead.beef.cafe", "ab", "1.2.3", "1.2.3.4.5", "abc.1.2.3",
        "999.1.1.1", "1.2.3.256", ".1:2", "01.2.3.4"}) {
      assertNull(ClientAddresses.parseLiteral(name), name);
    }
    assertEquals("/10.1.2.3", ClientAddresses.parseLiteral("10.1.2.3").toString());
    assertEquals("/0:0:0:0:0:0:0:1", ClientAddresses.parseLiteral("::1").toString());
    assertEquals("/2001:db8:0:0:0:0:0:1", ClientAddresses.parseLiteral("2001:db8::1").toString());
    assertEquals("/10.0.0.1", ClientAddresses.parseLiteral("::ffff:10.0.0.1").toString());
    assertNull(ClientAddresses.parseLiteral("2001:db8::cafe::1"), "a malformed IPv6 form fails without a lookup");
    assertNull(ClientAddresses.parseLiteral("1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19:20"), "too long");
  }
}
