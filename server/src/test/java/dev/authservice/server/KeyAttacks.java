package dev.authservice.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.Set;
import org.bson.Document;
import org.bson.types.Binary;
import org.slf4j.LoggerFactory;

/** What a store writer without the key-encryption key can plant, and how tests watch the server's answer. */
final class KeyAttacks {
  private KeyAttacks() {}

  static byte[] randomKek() {
    byte[] kek = new byte[32];
    new SecureRandom().nextBytes(kek);
    return kek;
  }

  /** A key document as insecure development mode writes it: the private key in the clear. */
  static Document plaintextKey(String kid, int generation, String alg, KeyPair pair) {
    return new Document("_id", kid)
        .append("generation", generation)
        .append("alg", alg)
        .append("public_key_x509", new Binary(pair.getPublic().getEncoded()))
        .append("private_key_pkcs8", new Binary(pair.getPrivate().getEncoded()))
        .append("created_at", new Date());
  }

  /** The kids of a JWK Set's JSON. */
  static Set<String> kids(String jwkSetJson) {
    try {
      Set<String> kids = new HashSet<>();
      new ObjectMapper().readTree(jwkSetJson).get("keys").forEach(k -> kids.add(k.get("kid").asText()));
      return kids;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The {@code kid} in a compact JWS's header. */
  static String kidOf(String compactJws) {
    try {
      JsonNode header = new ObjectMapper().readTree(Base64.getUrlDecoder().decode(compactJws.split("\\.")[0]));
      return header.get("kid").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every log line from now on, until {@link #stop}. */
  static ListAppender<ILoggingEvent> captureLogs() {
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logged);
    return logged;
  }

  static void stop(ListAppender<ILoggingEvent> logged) {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logged);
  }

  /** Whether a line at this level was logged that contains every one of the strings. */
  static boolean logged(ListAppender<ILoggingEvent> logged, Level level, String... parts) {
    // AppenderBase.doAppend holds the appender's lock while it adds
    synchronized (logged) {
      return logged.list.stream().anyMatch(e -> e.getLevel() == level
          && java.util.Arrays.stream(parts).allMatch(e.getFormattedMessage()::contains));
    }
  }
}
