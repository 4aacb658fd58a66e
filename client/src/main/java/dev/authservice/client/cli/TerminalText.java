package dev.authservice.client.cli;

/**
 * Text from the trail made safe to print on a terminal. Usernames (anyone can try a Login with
 * any name), user agents, reasons, chain names in an export and alert summaries are chosen by
 * whoever caused the event; printed raw, an escape sequence could rewrite the screen or the
 * terminal's title, and a bidi override could make a line read differently from what it holds.
 * So C0 and C1 control characters, DEL, the Unicode bidi controls and the line and paragraph
 * separators are shown visibly instead: {@code \x1b}, {@code \u202e}; a backslash is doubled,
 * so that {@code \x1b} typed as text is told apart from an escaped ESC.
 */
final class TerminalText {
  private TerminalText() {}

  /** For a table or a message: every unsafe character as a visible escape. */
  static String safe(String s) {
    if (s == null || s.chars().noneMatch(c -> c == '\\' || unsafe(c))) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\') {
        out.append("\\\\");
      } else if (c < 0x100 && unsafe(c)) {
        out.append(String.format("\\x%02x", (int) c));
      } else if (unsafe(c)) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /**
   * For JSON printed to a terminal: unsafe characters as JSON {@code \\uXXXX} escapes, which JSON
   * reads back as the same string (a JSON printer already escapes C0 characters).
   */
  static String safeJson(String json) {
    if (json.chars().noneMatch(TerminalText::unsafe)) {
      return json;
    }
    StringBuilder out = new StringBuilder(json.length() + 8);
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      out.append(unsafe(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return out.toString();
  }

  /** C0, DEL, C1, the bidi embeddings, overrides, isolates and marks, and the line and paragraph separators. */
  static boolean unsafe(int c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f)
        || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
        || c == 0x200e || c == 0x200f || c == 0x061c || c == 0x2028 || c == 0x2029;
  }
}
