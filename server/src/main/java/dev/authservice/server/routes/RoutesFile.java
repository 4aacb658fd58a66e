package dev.authservice.server.routes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A routes file ({@link RouteRules}), read at start and again whenever its content changes. At start
 * a file that cannot be read or parsed stops the server; later, a broken edit keeps the rules in
 * force and is logged once (not at every look), until the file changes again.
 *
 * <p>Changes are found by content, not modification time: the file (at most {@link #MAX_BYTES}) is
 * read at each look and compared by SHA-256, so an edit within the same second, or a Kubernetes
 * ConfigMap's symlink swap (whose times can go backwards), is not missed. New content takes effect
 * at the second look that finds it (one poll interval later), never half-written.
 */
public final class RoutesFile {
  private static final Logger log = LoggerFactory.getLogger(RoutesFile.class);
  /** Larger than any hand-written routes file; bounds what a look reads. */
  public static final int MAX_BYTES = 1024 * 1024;

  private final Path path;
  private volatile RouteRules rules;
  /** The content last looked at, good or broken, and the last problem reported. */
  private byte[] lastSeen;
  /** New content seen once: applied only if the next look finds it unchanged. */
  private byte[] settling;
  private String lastProblem = "";

  private RoutesFile(Path path, RouteRules rules, byte[] digest) {
    this.path = path;
    this.rules = rules;
    this.lastSeen = digest;
  }

  /** Reads and parses the file; a message naming the file and the line otherwise. */
  public static RoutesFile load(Path path) {
    try {
      byte[] content = read(path);
      RoutesFile file = new RoutesFile(path, RouteRules.parse(decode(content)), sha256(content));
      log.info("routes file {}: {} rules", path, file.rules.size());
      return file;
    } catch (IOException | RouteRules.InvalidRules e) {
      throw new IllegalArgumentException("routes file " + path + " (AUTH_EXT_AUTHZ_ROUTES_FILE): " + e.getMessage(), e);
    }
  }

  /** The rules in force. */
  public RouteRules rules() {
    return rules;
  }

  /** Looks at the file; new content that parses replaces the rules, broken content is reported once. */
  public synchronized void reloadIfChanged() {
    byte[] content;
    try {
      content = read(path);
    } catch (IOException e) {
      problem("cannot read it (" + e.getMessage() + ")");
      return;
    }
    byte[] digest = sha256(content);
    if (Arrays.equals(digest, lastSeen)) {
      settling = null;
      return;
    }
    if (!Arrays.equals(digest, settling)) {
      // an editor or `cp` may be half way through writing: a half-written file can parse (a rule
      // list cut at a line end) and drop rules, so content counts only once two looks agree
      settling = digest;
      return;
    }
    settling = null;
    lastSeen = digest;
    try {
      RouteRules parsed = RouteRules.parse(decode(content));
      rules = parsed;
      lastProblem = "";
      log.info("routes file {} changed: {} rules in force", path, parsed.size());
    } catch (RouteRules.InvalidRules e) {
      problem(e.getMessage());
    }
  }

  private void problem(String what) {
    if (!what.equals(lastProblem)) {
      log.error("routes file {}: {}; the previous rules stay in force until it is fixed", path, what);
      lastProblem = what;
    }
  }

  private static byte[] read(Path path) throws IOException {
    long size = Files.size(path);
    if (size > MAX_BYTES) {
      throw new IOException("larger than " + MAX_BYTES + " bytes");
    }
    byte[] content = Files.readAllBytes(path);
    if (content.length > MAX_BYTES) {
      throw new IOException("larger than " + MAX_BYTES + " bytes");
    }
    return content;
  }

  private static String decode(byte[] content) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(content)).toString();
    } catch (CharacterCodingException e) {
      throw new RouteRules.InvalidRules("not UTF-8 text");
    }
  }

  private static byte[] sha256(byte[] content) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(content);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
