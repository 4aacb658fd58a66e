package dev.authservice.server.paging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.authservice.server.core.ServiceException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Page tokens carry the position where a page ended, bound to the RPC and the filters, under an
 * HMAC: what the server issued comes back; anything else is INVALID_ARGUMENT saying what to do.
 */
class PageTokensTest {
  private static final String SCOPE = "auth.v1.AuthService/QueryAudit";
  private static final String FILTER = "types=[LOGIN]|username=\"alice\"";
  private static final String NOT_VALID =
      "page_token is not valid: pass next_page_token from the previous response unchanged";

  private static byte[] secret(int fill) {
    byte[] secret = new byte[32];
    Arrays.fill(secret, (byte) fill);
    return secret;
  }

  private final PageTokens tokens = new PageTokens(secret(7));

  private static ServiceException invalid(Executable call) {
    ServiceException e = assertThrows(ServiceException.class, call);
    assertEquals(ServiceException.Kind.INVALID_ARGUMENT, e.kind());
    return e;
  }

  /** The token with its character at {@code at} replaced by another base64url character. */
  private static String tampered(String token, int at) {
    char replacement = token.charAt(at) == 'A' ? 'B' : 'A';
    return token.substring(0, at) + replacement + token.substring(at + 1);
  }

  @Test
  void aTokenGivesBackItsPositionForTheSameScopeAndFilter() {
    List<String> position = List.of("2026-05-01T10:00:00Z", "event-17", "");
    String token = tokens.encode(SCOPE, FILTER, position);
    assertEquals(position, tokens.decode(SCOPE, FILTER, token));
    assertEquals(position, new PageTokens(secret(7)).decode(SCOPE, FILTER, token), "on any instance sharing the secret");

    byte[] bytes = {0, 1, 2, (byte) 0xff};
    PageTokens.Position binary = tokens.decodeAny(PageTokens.TokenField.PAGE_TOKEN, SCOPE, FILTER, tokens.encodeBytes(SCOPE, FILTER, bytes));
    assertArrayEquals(bytes, ((PageTokens.Binary) binary).bytes());
  }

  @Test
  void aTamperedTokenIsInvalidWhereverItIsChanged() {
    String token = tokens.encode(SCOPE, FILTER, List.of("2026-05-01T10:00:00Z", "event-17"));
    for (int at = 0; at < token.length() - 1; at++) {
      int position = at;
      assertEquals(NOT_VALID, invalid(() -> tokens.decode(SCOPE, FILTER, tampered(token, position))).publicMessage(),
          "changed at " + at);
    }
    assertEquals(NOT_VALID, invalid(() -> tokens.decode(SCOPE, FILTER, token.substring(0, token.length() - 4)))
        .publicMessage(), "cut short");
    assertEquals(NOT_VALID, invalid(() -> tokens.decode(SCOPE, FILTER, token + "AAAA")).publicMessage(), "lengthened");
  }

  @Test
  void aTokenIsBoundToItsFiltersAndItsRpc() {
    String token = tokens.encode(SCOPE, FILTER, List.of("event-17"));
    ServiceException otherFilter = invalid(() -> tokens.decode(SCOPE, "types=[LOGIN]|username=\"bob\"", token));
    assertEquals("page_token was issued for different filters; repeat the first request's filters"
        + " or start again without page_token", otherFilter.publicMessage());
    assertEquals(NOT_VALID, invalid(() -> tokens.decode("auth.v1.AuthService/StreamAudit", FILTER, token))
        .publicMessage(), "another RPC's token");
    assertEquals(NOT_VALID, invalid(() -> new PageTokens(secret(8)).decode(SCOPE, FILTER, token)).publicMessage(),
        "made with another secret");
    assertEquals(NOT_VALID, invalid(() -> tokens.decode(SCOPE, FILTER, tokens.encodeBytes(SCOPE, FILTER,
        new byte[] {1}))).publicMessage(), "a token of the other kind");
  }

  @Test
  void aResumeTokensErrorsNameResumeToken() {
    String stream = "auth.v1.AuthService/StreamAudit";
    String token = tokens.encodeBytes(stream, FILTER, new byte[] {1, 2, 3});
    PageTokens.TokenField field = PageTokens.TokenField.RESUME_TOKEN;
    assertEquals("resume_token is not valid: pass a resume_token from this stream unchanged",
        invalid(() -> tokens.decodeAny(field, stream, FILTER, token.substring(1))).publicMessage());
    assertEquals("resume_token was issued for different filters, follow and from_checkpoints; repeat the first"
        + " request's filters, follow and from_checkpoints or start again without resume_token",
        invalid(() -> tokens.decodeAny(field, stream, "types=[LOGIN]", token)).publicMessage());
  }

  @Test
  void whatIsNoTokenAtAllIsInvalidNotAnError() {
    for (String garbage : List.of("", "not base64 !", "AAAA", "x".repeat(PageTokens.MAX_TOKEN_LENGTH + 1))) {
      assertEquals(NOT_VALID, invalid(() -> tokens.decodeAny(PageTokens.TokenField.PAGE_TOKEN, SCOPE, FILTER, garbage)).publicMessage(), garbage);
    }
  }

  @Test
  void theServerRefusesToIssueWhatItCouldNotAccept() {
    assertThrows(IllegalArgumentException.class, () -> new PageTokens(new byte[31]), "a secret under 32 bytes");
    assertThrows(IllegalArgumentException.class, () -> tokens.encode(SCOPE, FILTER, Collections.nCopies(256, "p")));
    assertThrows(IllegalStateException.class, () -> tokens.encode(SCOPE, FILTER, List.of("p".repeat(2000))),
        "a position that would make a token over " + PageTokens.MAX_TOKEN_LENGTH + " characters");
  }
}
