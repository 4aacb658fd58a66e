package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class TerminalTextTest {
  @Test
  void controlAndBidiCharactersShowAsVisibleEscapes() {
    assertEquals("\\x1b]0;owned\\x07", TerminalText.safe("\u001b]0;owned\u0007"));
    assertEquals("\\x9b31m\\x7f", TerminalText.safe("\u009b31m\u007f"));
    assertEquals("\\u202enimda \\u2066x\\u2069", TerminalText.safe("\u202enimda \u2066x\u2069"));
    assertEquals("a\\x0ab\\x0dc\\x09", TerminalText.safe("a\nb\rc\t"));
    assertEquals("typed \\\\x1b", TerminalText.safe("typed \\x1b"), "a backslash is doubled, so text cannot pose as an escape");
    assertEquals("alice é 名前", TerminalText.safe("alice é 名前"));
    for (int c = 0; c < 0x3000; c++) {
      String out = TerminalText.safe(String.valueOf((char) c));
      assertTrue(out.chars().noneMatch(TerminalText::unsafe), "U+" + Integer.toHexString(c));
    }
  }

  @Test
  void jsonKeepsItsMeaningWithoutRawBidiOrC1Characters() throws Exception {
    String json = "{\"username\":\"\u202eadmin\u009b\u2028\"}";
    String safe = TerminalText.safeJson(json);
    assertTrue(safe.chars().noneMatch(TerminalText::unsafe), safe);
    assertEquals("\u202eadmin\u009b\u2028", new ObjectMapper().readTree(safe).get("username").asText());
  }
}
