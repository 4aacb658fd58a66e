package dev.authservice.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

/** The printable-text loop says what {@code replaceAll("[^\\x20-\\x7e]", "?")} said, cut included. */
class ForwardedCallerPrintableTest {
  @Property
  void agreesWithTheRegularExpression(@ForAll @StringLength(max = 12)
      @Chars({'a', 'Z', ' ', '~', '\n', '\u007f', '\u00e9', '\u2028', '\ud83d', '\ude00', '?'}) String text,
      @ForAll @IntRange(min = 0, max = 12) int max) {
    String cut = text.length() > max ? text.substring(0, max) : text;
    assertEquals(cut.replaceAll("[^\\x20-\\x7e]", "?"), ForwardedCaller.printable(text, max), text);
  }
}
