package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.RotateSigningKeyResponse;
import dev.authservice.server.keys.SigningAlgorithm;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A verifier that knows only the issuer: it reads the metadata over HTTP, follows jwks_uri, and
 * verifies tokens with an independent JOSE library (nimbus-jose-jwt, with its caching key source
 * that refetches on an unknown kid), before and after a key rotation.
 */
class JwksEndpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  private static TestServer start(SigningAlgorithm algorithm, String issuer) {
    return TestServer.start(b -> b.issuer(issuer)
        .keys(new KeySettings(algorithm, Optional.empty(), Optional.empty(), true))
        .http(HttpSettings.OFF.withPublicPort(OptionalInt.of(0))));
  }

  @ParameterizedTest
  @EnumSource(value = SigningAlgorithm.class, names = {"RS256", "ES256"})
  void aVerifierFindsTheKeysFromTheIssuerAloneAndKeepsVerifyingAcrossARotation(SigningAlgorithm algorithm)
      throws Exception {
    try (TestServer server = start(algorithm, "https://auth.example.test")) {
      String base = "http://127.0.0.1:" + server.httpPort();
      JsonNode metadata = getJson(base + "/.well-known/oauth-authorization-server");
      assertEquals("https://auth.example.test", metadata.get("issuer").asText(), "the metadata's issuer is the iss");
      JsonNode openId = getJson(base + "/.well-known/openid-configuration");
      assertEquals(metadata.get("issuer"), openId.get("issuer"));
      assertEquals(metadata.get("jwks_uri"), openId.get("jwks_uri"));
      assertEquals(algorithm.jwsName(), openId.get("id_token_signing_alg_values_supported").get(0).asText());
      assertEquals(openId.get("id_token_signing_alg_values_supported"),
          metadata.get("id_token_signing_alg_values_supported"), "both documents name the algorithms");
      assertEquals("public", openId.get("subject_types_supported").get(0).asText());
      URI jwksUri = URI.create(metadata.get("jwks_uri").asText());
      assertEquals(base + "/.well-known/jwks.json", jwksUri.toString(), "derived from the bind address and port");

      HttpResponse<String> keys = get(jwksUri.toString());
      assertEquals("application/json", keys.headers().firstValue("Content-Type").orElseThrow());
      assertEquals("public, max-age=60", keys.headers().firstValue("Cache-Control").orElseThrow());

      DefaultJWTProcessor<SecurityContext> verifier = verifier(jwksUri.toURL(), metadata.get("issuer").asText(),
          server.config().defaultAudience(), algorithm);
      LoginResponse before = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      JWTClaimsSet claims = verifier.process(before.getAccessToken(), null);
      assertEquals(before.getTokenId(), claims.getJWTID());

      RotateSigningKeyResponse rotation = TestServer.withBearer(
              KeyAdminServiceGrpc.newBlockingStub(server.channel()), before.getAccessToken())
          .withDeadlineAfter(20, TimeUnit.SECONDS).rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance());
      LoginResponse after = server.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD);
      assertEquals(rotation.getKid(), Tokens.decodePart(after.getAccessToken(), 0).get("kid"));
      // the same verifier, its key set cached from before: the unknown kid makes it fetch again
      assertEquals(after.getTokenId(), verifier.process(after.getAccessToken(), null).getJWTID());
      // the retired key stays published until its tokens expire
      assertEquals(before.getTokenId(), verifier(jwksUri.toURL(), metadata.get("issuer").asText(),
          server.config().defaultAudience(), algorithm).process(before.getAccessToken(), null).getJWTID());
      JsonNode published = getJson(jwksUri.toString());
      assertEquals(Set.of(rotation.getKid(), rotation.getRetiredKid()),
          Set.of(published.get("keys").get(0).get("kid").asText(), published.get("keys").get(1).get("kid").asText()));

      // and a verifier for another issuer refuses the same token
      assertThrows(Exception.class, () -> verifier(jwksUri.toURL(), "https://other.example.test",
          server.config().defaultAudience(), algorithm).process(after.getAccessToken(), null));
    }
  }

  @Test
  void anIssuerWithAPathIsFoundWhereDiscoveryClientsLookAndAConfiguredBaseUrlIsUsed() throws Exception {
    try (TestServer server = TestServer.start(b -> b.issuer("https://id.example.test/tenant-a")
        .http(HttpSettings.OFF.withPublicPort(OptionalInt.of(0))
            .withPublicBaseUrl(Optional.of(URI.create("https://id.example.test/tenant-a/")))))) {
      String base = "http://127.0.0.1:" + server.httpPort();
      for (String path : new String[] {"/tenant-a/.well-known/openid-configuration",
          "/.well-known/oauth-authorization-server/tenant-a", "/.well-known/openid-configuration"}) {
        JsonNode doc = getJson(base + path);
        assertEquals("https://id.example.test/tenant-a", doc.get("issuer").asText(), path);
        assertEquals("https://id.example.test/tenant-a/.well-known/jwks.json", doc.get("jwks_uri").asText(), path);
      }
      assertEquals(200, get(base + "/tenant-a/.well-known/jwks.json").statusCode());
    }
  }

  @Test
  void aForgedHostHeaderDoesNotChangeTheJwksUri() throws Exception {
    try (TestServer server = start(SigningAlgorithm.RS256, "auth-service")) {
      String honest = getJson("http://127.0.0.1:" + server.httpPort() + "/.well-known/openid-configuration")
          .get("jwks_uri").asText();
      String answer = RawHttp.exchange(server.httpPort(), "GET /.well-known/openid-configuration HTTP/1.1\r\n"
          + "Host: attacker.example\r\nX-Forwarded-Host: attacker.example\r\nConnection: close\r\n\r\n");
      assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
      assertTrue(answer.contains(honest), answer);
      assertTrue(!answer.contains("attacker.example"), answer);
    }
  }

  @Test
  void plaintextHttpOnANonLoopbackAddressIsRefusedWithoutTls() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> TestServer.start(b -> b.http(new HttpSettings(OptionalInt.of(0), "0.0.0.0", Optional.empty(),
            HttpSettings.OFF.jwksMaxAge(), OptionalInt.empty(), "127.0.0.1", 4, 64, HttpSettings.OFF.requestTimeout()))));
    assertTrue(refused.getMessage().contains("AUTH_HTTP_BIND_ADDRESS"), refused.getMessage());
  }

  private static DefaultJWTProcessor<SecurityContext> verifier(URL jwksUri, String issuer, String audience,
      SigningAlgorithm algorithm) {
    JWKSource<SecurityContext> keys = JWKSourceBuilder.create(jwksUri).retrying(false).build();
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt")));
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.parse(algorithm.jwsName()), keys));
    processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(audience,
        new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("sub", "exp", "iat", "jti")));
    return processor;
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode getJson(String url) throws Exception {
    HttpResponse<String> response = get(url);
    assertEquals(200, response.statusCode(), url + ": " + response.body());
    assertNotEquals("", response.body());
    return JSON.readTree(response.body());
  }
}
