package dev.authservice.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.MongoDatabase;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.bson.Document;
import org.bson.types.Binary;

/** Hand-made JWS tokens for attacking the verifier: any header, any claims, any key. */
final class Tokens {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private Tokens() {}

  /** The server's signing key, read straight from the store as an attacker with DB access would. */
  record ServerKey(String kid, String alg, PrivateKey privateKey, PublicKey publicKey) {}

  /** The newest signing key; readable because test servers run with development (unencrypted) keys. */
  static ServerKey serverKey(MongoDatabase db) {
    return storedKey(db.getCollection("signing_keys").find().sort(new Document("generation", -1)).first());
  }

  /** A key pair as stored in a signing key collection (development mode: unencrypted). */
  static ServerKey storedKey(Document doc) {
    try {
      String alg = doc.getString("alg");
      KeyFactory factory = dev.authservice.server.keys.SigningAlgorithm.fromJwsName(alg).keyFactory();
      return new ServerKey(doc.getString("_id"), alg,
          factory.generatePrivate(new PKCS8EncodedKeySpec(doc.get("private_key_pkcs8", Binary.class).getData())),
          factory.generatePublic(new X509EncodedKeySpec(doc.get("public_key_x509", Binary.class).getData())));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A fresh key pair of the same type as the server's, that the server has never seen. */
  static java.security.KeyPair otherKeyPair(String alg) {
    try {
      KeyPairGenerator generator = switch (alg) {
        case "RS256" -> {
          KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
          g.initialize(2048);
          yield g;
        }
        case "ES256" -> {
          KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
          g.initialize(new ECGenParameterSpec("secp256r1"));
          yield g;
        }
        default -> KeyPairGenerator.getInstance("Ed25519");
      };
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs with the JWS algorithm that goes with the key's type, whatever the header says. */
  static String sign(Map<String, Object> header, Map<String, Object> claims, PrivateKey key) {
    String jca = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSAinP1363Format";
      default -> "Ed25519";
    };
    String signingInput = encode(header) + "." + encode(claims);
    try {
      Signature signature = Signature.getInstance(jca);
      signature.initSign(key);
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64.encodeToString(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The RFC 7517 JWK of any public key. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> jwk(PublicKey key) {
    try {
      return JSON.readValue(io.jsonwebtoken.security.Jwks.json(
          io.jsonwebtoken.security.Jwks.builder().key(key).build()), Map.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, Object> header(String alg, String typ, Object kid) {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("alg", alg);
    if (typ != null) {
      header.put("typ", typ);
    }
    if (kid != null) {
      header.put("kid", kid);
    }
    return header;
  }

  /** Claims as the server would issue them, valid for ten minutes from now (within its 15-minute TTL). */
  static Map<String, Object> claims(String issuer, String audience) {
    long now = Instant.now().getEpochSecond();
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("iss", issuer);
    claims.put("sub", "attacker-subject");
    claims.put("aud", List.of(audience));
    claims.put("iat", now);
    claims.put("nbf", now);
    claims.put("exp", now + 600);
    claims.put("jti", "crafted-" + System.nanoTime());
    claims.put("username", "mallory");
    claims.put("roles", List.of("admin"));
    return claims;
  }



  static String hs256(Map<String, Object> header, Map<String, Object> claims, byte[] secret) {
    String signingInput = encode(header) + "." + encode(claims);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return signingInput + "." + B64.encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String unsigned(Map<String, Object> header, Map<String, Object> claims) {
    return encode(header) + "." + encode(claims) + ".";
  }

  static String encode(Object json) {
    try {
      return B64.encodeToString(JSON.writeValueAsBytes(json));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> decodePart(String token, int index) {
    try {
      return JSON.readValue(Base64.getUrlDecoder().decode(token.split("\\.")[index]), Map.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
