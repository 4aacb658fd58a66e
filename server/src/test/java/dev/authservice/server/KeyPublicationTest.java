package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKey;
import dev.authservice.server.keys.SigningKeys;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * A scheduled rotation publishes the next key before it signs, so that a verifier holding a JWK
 * Set cached for up to AUTH_JWKS_MAX_AGE has the key before the first token signed with it; and
 * the server refuses to start with a max-age longer than that lead.
 */
class KeyPublicationTest {
  private static final Duration INTERVAL = Duration.ofDays(30);
  private static final Duration LEAD = Duration.ofHours(1);
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aScheduledRotationPublishesTheNextKeyALeadBeforeItSigns() throws Exception {
    try (TestServer server = TestServer.start(b -> b.tokenTtl(Duration.ofMinutes(5))
        .http(HttpSettings.OFF.withPublicPort(OptionalInt.of(0))))) {
      String first = kidOf(server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken());
      // a second instance on the same store, its clock where the key is due for publication
      MutableClock later = new MutableClock(Instant.now().plus(INTERVAL).minus(LEAD).plusSeconds(1));
      SigningKeys instance = new SigningKeys(new KeyStoreOnTestDatabase(server).store(), later, SigningAlgorithm.RS256,
          server.config().tokenTtl().plus(server.config().clockSkew()));
      instance.loadOrCreate();

      assertTrue(instance.rotateIfOlderThan(INTERVAL, LEAD));
      SigningKey next = instance.verificationKeys().get(0);
      assertTrue(next.createdAt().isAfter(later.instant()), "signs from a lead ahead: " + next);
      assertEquals(first, instance.current().kid(), "the published key does not sign yet");
      assertFalse(instance.rotateIfOlderThan(INTERVAL, LEAD), "nothing more while it waits for its turn");
      // every instance's JWK Set shows it within a key reload, while tokens are still signed with the old key
      Await.until("the next key in the served JWK Set", 20, () -> jwksKids(server).contains(next.kid()));
      assertEquals(first, kidOf(server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken()));

      later.advance(LEAD);
      assertEquals(next.kid(), instance.current().kid(), "the lead has passed: the new key signs");
      Document retired = server.database().getCollection("signing_keys").find(new Document("_id", first)).first();
      assertEquals(next.createdAt().plus(server.config().tokenTtl()).plus(server.config().clockSkew()),
          retired.getDate("verify_until").toInstant(), "the old key verifies a token lifetime after it last signs");
    }
  }

  @Test
  void theServerRefusesAMaxAgeThatACacheCouldOutliveTheLeadWith() {
    KeySettings keys = new KeySettings(SigningAlgorithm.RS256, Optional.of(INTERVAL), Optional.empty(), true)
        .withPublicationLead(Duration.ofMinutes(30));
    HttpSettings serving = HttpSettings.OFF.withPublicPort(OptionalInt.of(0));
    HttpSettings longCache = new HttpSettings(serving.publicPort(), "127.0.0.1", Optional.empty(), Duration.ofMinutes(30),
        OptionalInt.empty(), "127.0.0.1", 4, 64, Duration.ofSeconds(10));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServerConfig.builder(java.nio.file.Path.of("data")).keys(keys).http(longCache).build());
    assertTrue(e.getMessage().contains("AUTH_JWKS_MAX_AGE") && e.getMessage().contains("AUTH_KEY_PUBLICATION_LEAD"),
        e.getMessage());
    // the same max-age with the JWK Set not served, or a lead covering it, starts
    ServerConfig.builder(java.nio.file.Path.of("data")).keys(keys).http(longCache.withPublicPort(OptionalInt.empty()))
        .build();
    ServerConfig.builder(java.nio.file.Path.of("data")).keys(keys.withPublicationLead(Duration.ofMinutes(31))).http(
        longCache).build();
    assertThrows(IllegalArgumentException.class, () -> keys.withPublicationLead(Duration.ofDays(16)),
        "a lead over half the rotation interval");
  }

  private Set<String> jwksKids(TestServer server) {
    try {
      return kids(http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.httpPort() + "/.well-known/jwks.json")).GET().build(),
        HttpResponse.BodyHandlers.ofString()).body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static Set<String> kids(String jwkSet) throws Exception {
    Set<String> kids = new HashSet<>();
    new ObjectMapper().readTree(jwkSet).get("keys").forEach(k -> kids.add(k.get("kid").asText()));
    return kids;
  }

  private static String kidOf(String jwt) throws Exception {
    JsonNode header = new ObjectMapper().readTree(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[0]),
        StandardCharsets.UTF_8));
    return header.get("kid").asText();
  }
}
