package dev.authservice.server.usecase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** The hand-written token68 check says exactly what RFC 7235's grammar, as a regular expression, says. */
class Token68Test {
  private static final Pattern GRAMMAR = Pattern.compile("[A-Za-z0-9._~+/-]+=*");

  @Property
  void agreesWithTheGrammar(@ForAll @StringLength(max = 12)
      @Chars({'a', 'Z', '0', '-', '.', '_', '~', '+', '/', '=', ' ', ',', '"', '\u00e9', '\t', '%'}) String token) {
    assertEquals(GRAMMAR.matcher(token).matches(), ExternalAuthorization.isToken68(token), token);
  }

  @Test
  void examples() {
    assertTrue(ExternalAuthorization.isToken68("eyJhbGciOi.eyJzdWIi.c2ln"));
    assertTrue(ExternalAuthorization.isToken68("abc=="));
    assertFalse(ExternalAuthorization.isToken68(""));
    assertFalse(ExternalAuthorization.isToken68("=="));
    assertFalse(ExternalAuthorization.isToken68("ab=c"));
    assertFalse(ExternalAuthorization.isToken68("a b"));
    assertFalse(ExternalAuthorization.isToken68("a,b"));
  }
}
