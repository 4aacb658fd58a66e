package dev.authservice.server.audit.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.paging.PageTokens;
import java.util.HashMap;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The resume token's position: every position the stream can make becomes a token of at most
 * 2 KiB that the decode side reads back unchanged, whatever the chain ids, seq numbers and
 * times; and bytes that are no position are refused as such, never with another exception.
 */
class StreamPositionPropertiesTest {
  private static final String SCOPE = "auth.v1.AuthService/StreamAudit";
  private static final PageTokens TOKENS = new PageTokens(new byte[32]);

  @Provide
  Arbitrary<StreamPosition> positions() {
    Arbitrary<String> chainIds = Arbitraries.strings().ofMinLength(0).ofMaxLength(400);
    Arbitrary<Long> seqs = Arbitraries.longs().between(0, Long.MAX_VALUE);
    Arbitrary<Map<String, Long>> chains = Arbitraries.maps(chainIds, seqs).ofMaxSize(StreamPosition.MAX_CHAINS);
    return Combinators.combine(Arbitraries.longs(), Arbitraries.longs(), chains).as((floor, mark, byId) -> {
      Map<StreamPosition.ChainKey, Long> keyed = new HashMap<>();
      byId.forEach((id, seq) -> keyed.put(StreamPosition.ChainKey.of(id), seq));
      return new StreamPosition(floor, mark, keyed);
    });
  }

  @Property(tries = 500)
  void everyPositionBecomesAnAcceptedTokenOfAtMost2KiB(@ForAll("positions") StreamPosition position,
      @ForAll String filter) {
    String token = TOKENS.encodeBytes(SCOPE, filter, position.toBytes());
    assertTrue(token.length() <= PageTokens.MAX_TOKEN_LENGTH, "token of " + token.length() + " characters");
    PageTokens.Position decoded = TOKENS.decodeAny(PageTokens.TokenField.RESUME_TOKEN, SCOPE, filter, token);
    assertTrue(decoded instanceof PageTokens.Binary, decoded.toString());
    assertEquals(position, StreamPosition.fromBytes(((PageTokens.Binary) decoded).bytes()));
  }

  @Example
  void theLargestPositionFits() {
    Map<StreamPosition.ChainKey, Long> full = new HashMap<>();
    for (int i = 0; i < StreamPosition.MAX_CHAINS; i++) {
      full.put(StreamPosition.ChainKey.of("x".repeat(10_000) + i), Long.MAX_VALUE);
    }
    StreamPosition largest = new StreamPosition(Long.MIN_VALUE, Long.MIN_VALUE, full);
    assertTrue(largest.toBytes().length <= StreamPosition.MAX_ENCODED_BYTES);
    String token = TOKENS.encodeBytes(SCOPE, "f".repeat(5000), largest.toBytes());
    assertTrue(token.length() <= PageTokens.MAX_TOKEN_LENGTH, "token of " + token.length() + " characters");
    assertEquals(largest, StreamPosition.fromBytes(((PageTokens.Binary) TOKENS.decodeAny(PageTokens.TokenField.RESUME_TOKEN, SCOPE, "f".repeat(5000), token))
        .bytes()));
  }

  /**
   * The bytes are the documented format, exactly (tokens outlive the instance that issued them):
   * checked against a plain reference encoding of it, not only against the decoder.
   */
  @Property(tries = 500)
  void theEncodingIsTheDocumentedFormat(@ForAll("positions") StreamPosition position) {
    java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
    expected.write(1);
    referenceVarLong(expected, (position.floor() << 1) ^ (position.floor() >> 63));
    referenceVarLong(expected, (position.mark() << 1) ^ (position.mark() >> 63));
    referenceVarLong(expected, position.chains().size());
    position.chains().entrySet().stream()
        .sorted(Map.Entry.comparingByKey(java.util.Comparator.comparingLong(StreamPosition.ChainKey::high)
            .thenComparingInt(StreamPosition.ChainKey::low)))
        .forEach(e -> {
          byte[] key = java.nio.ByteBuffer.allocate(12).putLong(e.getKey().high()).putInt(e.getKey().low()).array();
          expected.write(key, 0, key.length);
          referenceVarLong(expected, e.getValue());
        });
    org.junit.jupiter.api.Assertions.assertArrayEquals(expected.toByteArray(), position.toBytes());
  }

  private static void referenceVarLong(java.io.ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  /** A stream seals a token per event with one sealer: each is the token encodeBytes makes, and resumes. */
  @Property(tries = 100)
  void aStreamsSealerMakesTheSameTokensAsEncodeBytes(@ForAll("positions") StreamPosition first,
      @ForAll("positions") StreamPosition second, @ForAll String filter) {
    PageTokens.BinarySealer sealer = TOKENS.binarySealer(SCOPE, filter);
    for (StreamPosition position : java.util.List.of(first, second, first)) {
      String token = sealer.seal(position.toBytes());
      assertEquals(TOKENS.encodeBytes(SCOPE, filter, position.toBytes()), token);
      assertEquals(position, StreamPosition.fromBytes(((PageTokens.Binary) TOKENS.decodeAny(PageTokens.TokenField.RESUME_TOKEN, SCOPE, filter, token))
          .bytes()));
    }
  }

  @Property(tries = 1000)
  void bytesThatAreNoPositionAreRefusedAsSuch(@ForAll byte[] bytes) {
    try {
      StreamPosition decoded = StreamPosition.fromBytes(bytes);
      assertEquals(decoded, StreamPosition.fromBytes(decoded.toBytes()));
    } catch (IllegalArgumentException expected) {
      // refused: the RPC answers INVALID_ARGUMENT
    }
  }
}
