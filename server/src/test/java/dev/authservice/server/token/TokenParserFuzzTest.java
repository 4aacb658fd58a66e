package dev.authservice.server.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKey;
import dev.authservice.server.keys.SigningKeyStore;
import dev.authservice.server.keys.SigningKeys;
import dev.authservice.server.keys.StoredKeys;
import dev.authservice.server.user.User;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

/**
 * Property-based fuzzing of the token parser: whatever bytes arrive, the verifier answers with
 * a failure reason and never throws, and only an untouched, genuinely issued token is active.
 */
class TokenParserFuzzTest {
  private static final String ISSUER = "fuzz-issuer";
  private static final String AUDIENCE = "fuzz-audience";

  /** Keys in a list: the store is not what is fuzzed here. */
  private static final class ListKeyStore implements SigningKeyStore {
    private final List<SigningKey> keys = new CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "a list";
    }

    @Override
    public StoredKeys load() {
      return new StoredKeys(List.copyOf(keys), List.of(),
          keys.stream().mapToInt(SigningKey::generation).max().orElse(0));
    }

    @Override
    public boolean encryptStoredPlaintext(String kid) {
      return false;
    }

    @Override
    public boolean insertIfGenerationFree(SigningKey key) {
      if (keys.stream().anyMatch(k -> k.generation() == key.generation())) {
        return false;
      }
      return keys.add(key);
    }

    @Override
    public void retire(String kid, Instant verifyUntil) {}
  }

  private final SigningKeys keys;
  private final TokenVerifier verifier;
  private final String validToken;

  TokenParserFuzzTest() {
    keys = new SigningKeys(new ListKeyStore(), Clock.systemUTC(), SigningAlgorithm.RS256, Duration.ofMinutes(16));
    keys.loadOrCreate();
    verifier = new TokenVerifier(keys, Revocations.NONE, Clock.systemUTC(), ISSUER, AUDIENCE, Duration.ofMinutes(15),
        Duration.ofSeconds(30));
    TokenIssuer issuer = new TokenIssuer(keys, Clock.systemUTC(), ISSUER, "fuzz", Duration.ofMinutes(15));
    validToken = issuer.issue(new User("subject-1", "fuzzer", "", List.of("reader"), false, Instant.now()),
        AUDIENCE, "session-1").accessToken();
  }

  private Verification verify(String token) {
    Verification v = verifier.verify(token, "");
    assertTrue(v.active() != v.failure().isPresent(), "exactly one of active or a failure reason");
    return v;
  }

  @Example
  void theControlTokenIsActive() {
    assertTrue(verify(validToken).active());
  }

  @Example
  void aSignatureSpelledWithOtherUnusedBitsIsMalformed() {
    // base64url's last character may carry unused bits; a token has only its canonical spelling
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int rest = validToken.substring(validToken.lastIndexOf('.') + 1).length() % 4;
    net.jqwik.api.Assume.that(rest != 0);
    char last = validToken.charAt(validToken.length() - 1);
    char respelled = alphabet.charAt(alphabet.indexOf(last) ^ 1);
    Verification v = verify(validToken.substring(0, validToken.length() - 1) + respelled);
    assertFalse(v.active());
    assertEquals(Optional.of(ValidationFailure.MALFORMED), v.failure());
  }

  @Property
  void arbitraryStringsAreNeverActiveAndNeverThrow(@ForAll @StringLength(max = 9000) String input) {
    assertFalse(verify(input).active());
  }

  @Property
  void dotSeparatedJunkIsNeverActive(@ForAll("segments") List<String> parts) {
    assertFalse(verify(String.join(".", parts)).active());
  }

  @Property
  void mutatedValidTokensAreNeverActive(@ForAll @IntRange(min = 0, max = 10_000) int position,
      @ForAll("replacements") char replacement) {
    int at = position % validToken.length();
    if (validToken.charAt(at) == replacement) {
      return;
    }
    String mutated = validToken.substring(0, at) + replacement + validToken.substring(at + 1);
    Verification v = verify(mutated);
    assertFalse(v.active(), "mutated at " + at);
  }

  @Property
  void truncatedValidTokensAreNeverActive(@ForAll @IntRange(min = 0, max = 2000) int length) {
    if (length >= validToken.length()) {
      return;
    }
    assertFalse(verify(validToken.substring(0, length)).active());
  }

  @Property
  void hostileHeadersAreRefusedWithoutThrowing(@ForAll("headerValues") Object alg, @ForAll("headerValues") Object kid,
      @ForAll("headerValues") Object typ) {
    String header = json(Map.of("alg", alg, "kid", kid, "typ", typ));
    String[] real = validToken.split("\\.");
    assertFalse(verify(b64(header) + "." + real[1] + "." + real[2]).active());
  }

  @Example
  void deeplyNestedOrHugeHeadersAreMalformed() {
    String nested = "{\"alg\":" + "[".repeat(500) + "]".repeat(500) + "}";
    String[] real = validToken.split("\\.");
    assertEquals(ValidationFailure.MALFORMED, verify(b64(nested) + "." + real[1] + "." + real[2]).failure().orElseThrow());
    String huge = "{\"alg\":\"RS256\",\"kid\":\"" + "k".repeat(5000) + "\"}";
    assertFalse(verify(b64(huge) + "." + real[1] + "." + real[2]).active());
  }

  @Example
  void deeplyNestedClaimsSignedWithTheRealKeyAreMalformed() throws Exception {
    String header = json(Map.of("alg", "RS256", "typ", "at+jwt", "kid", keys.current().kid()));
    String claims = "{\"iss\":\"" + ISSUER + "\",\"deep\":" + "[".repeat(200) + "]".repeat(200) + "}";
    String input = b64(header) + "." + b64(claims);
    java.security.Signature signer = java.security.Signature.getInstance("SHA256withRSA");
    signer.initSign(keys.current().privateKey());
    signer.update(input.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    String token = input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signer.sign());
    assertEquals(ValidationFailure.MALFORMED, verify(token).failure().orElseThrow());
  }

  @Provide
  Arbitrary<List<String>> segments() {
    Arbitrary<String> segment = Arbitraries.oneOf(
        Arbitraries.strings().withChars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").ofMaxLength(200),
        Arbitraries.strings().ofMaxLength(50).map(TokenParserFuzzTest::b64),
        Arbitraries.of("e30", "eyJhbGciOiJub25lIn0", "eyJhbGciOiJSUzI1NiJ9", "bnVsbA", "W10", ""));
    return segment.list().ofMinSize(0).ofMaxSize(6);
  }

  @Provide
  Arbitrary<Character> replacements() {
    return Arbitraries.chars().with("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ");
  }

  @Provide
  Arbitrary<Object> headerValues() {
    return Arbitraries.oneOf(
        Arbitraries.of("RS256", "none", "HS256", "ES256", "EdDSA", "at+jwt", "JWT", "../../x", "{\"$ne\":null}", "")
            .map(s -> (Object) s),
        Arbitraries.strings().ofMaxLength(80).map(s -> (Object) s),
        Arbitraries.integers().map(i -> (Object) i),
        Arbitraries.just((Object) List.of("RS256")),
        Arbitraries.just((Object) Map.of("$ne", "")),
        Arbitraries.just((Object) Boolean.TRUE),
        Arbitraries.just((Object) keys.current().kid()));
  }

  private static String json(Map<String, Object> map) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(map);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
