package dev.authservice.embedded;

import com.mongodb.MongoCredential;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A mark the store's own clients put in their application name, which every connection of theirs
 * sends in its first message (the handshake's client metadata), monitors included: derived from
 * the start's credential (HMAC-SHA-256 of a fixed label under the password), so only a holder of
 * the credential can make it, and it changes at every start. A marked connection is never closed
 * for waiting unauthenticated ({@link UnauthenticatedConnectionLimit}): the driver's monitors
 * never authenticate, and closing one, or refusing one of its pool's new connections, makes the
 * driver drop every connection it has to the store.
 *
 * <p>It is not the credential and reveals nothing of it; a process that can read loopback traffic
 * (CAP_NET_RAW in the network namespace) can copy it, and could then hold connections open
 * without the bound, as before the bound existed.
 */
final class ConnectionMarker {
  private static final byte[] LABEL = "auth embedded store: connection marker v1".getBytes(StandardCharsets.UTF_8);
  private static final String PREFIX = "esm-";
  /** The longest application name the driver accepts (the handshake specification's limit). */
  static final int MAX_APPLICATION_NAME_BYTES = 128;

  private final String value;

  private ConnectionMarker(String value) {
    this.value = value;
  }

  static ConnectionMarker of(MongoCredential credential) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(new String(credential.getPassword()).getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] tag = java.util.Arrays.copyOf(mac.doFinal(LABEL), 16);
      return new ConnectionMarker(PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(tag));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK lacks HmacSHA256", e);
    }
  }

  /**
   * {@code name} with the mark appended: the application name a client of the store sends, cut to
   * the driver's limit of {@value #MAX_APPLICATION_NAME_BYTES} bytes (the mark is kept whole).
   */
  String mark(String name) {
    String kept = name;
    while (!kept.isEmpty() && (kept + " " + value).getBytes(StandardCharsets.UTF_8).length > MAX_APPLICATION_NAME_BYTES) {
      kept = kept.substring(0, kept.offsetByCodePoints(kept.length(), -1));
    }
    return kept.isEmpty() ? value : kept + " " + value;
  }

  /**
   * Whether {@code command} is a handshake ({@code isMaster} or {@code hello}) whose client
   * metadata ({@code client.application.name}) carries this mark.
   */
  boolean marksHandshake(de.bwaldvogel.mongo.bson.Document command) {
    if (command == null || command.isEmpty()) {
      return false;
    }
    String name = command.keySet().iterator().next().toLowerCase(java.util.Locale.ROOT);
    if (!name.equals("ismaster") && !name.equals("hello")) {
      return false;
    }
    return command.get("client") instanceof de.bwaldvogel.mongo.bson.Document client
        && client.get("application") instanceof de.bwaldvogel.mongo.bson.Document application
        && marks(application.get("name"));
  }

  /** Whether an application name carries this mark (compared in constant time). */
  boolean marks(Object applicationName) {
    if (!(applicationName instanceof String name) || name.length() < value.length()) {
      return false;
    }
    byte[] tail = name.substring(name.length() - value.length()).getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(tail, value.getBytes(StandardCharsets.UTF_8));
  }
}
