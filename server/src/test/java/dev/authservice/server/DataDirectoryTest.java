package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import dev.authservice.embedded.EmbeddedStore;
import dev.authservice.server.audit.write.MvStoreAuditSpool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The data directory holds the embedded store and the audit spool: it is for the server's OS user
 * only, whatever the umask, and a directory or file found open to others is tightened at start,
 * with one warning each.
 */
class DataDirectoryTest {
  @TempDir Path tmp;
  private Path dataDir;

  @BeforeEach
  void posixOnly() throws IOException {
    assumeTrue(Files.getFileStore(tmp).supportsFileAttributeView("posix"), "needs POSIX permissions");
    dataDir = tmp.resolve("data");
  }

  private ServerConfig.Builder config() {
    return ServerConfig.builder(dataDir)
        .mongoUri(Optional.empty())
        .hashParams(TestServer.TEST_HASH)
        .bootstrapAdmin(Optional.of(TestServer.ADMIN), Optional.of(TestServer.ADMIN_PASSWORD));
  }

  @Test
  void aNewDataDirectoryAndEveryFileInItAreForTheOwnerOnly() throws Exception {
    // the umask here (usually 022) would make them 0755 and 0644
    try (AuthServer server = AuthServer.start(config().build())) {
      Map<String, String> found = permissions();
      assertEquals("rwx------", found.remove("."), "the data directory");
      assertTrue(found.containsKey(EmbeddedStore.FILE_NAME) && found.containsKey(MvStoreAuditSpool.FILE_NAME),
          "the store and the spool are there: " + found.keySet());
      found.forEach((name, perms) -> assertEquals("rw-------", perms, name));
    }
  }

  @Test
  void looserPermissionsFoundAtStartAreTightenedWithOneWarningEach() throws Exception {
    AuthServer.start(config().build()).close();
    Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path left = Files.writeString(dataDir.resolve("left-behind.txt"), "x");
    List<Path> files = List.of(dataDir.resolve(EmbeddedStore.FILE_NAME), dataDir.resolve(MvStoreAuditSpool.FILE_NAME),
        left);
    for (Path file : files) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }
    Logger logger = (Logger) LoggerFactory.getLogger(dev.authservice.embedded.PrivateFiles.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try (AuthServer server = AuthServer.start(config().build())) {
      Map<String, String> found = permissions();
      assertEquals("rwx------", found.remove("."), "the data directory");
      found.forEach((name, perms) -> assertEquals("rw-------", perms, name));
    } finally {
      logger.detachAppender(logged);
    }
    List<String> warnings = logged.list.stream().filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage).toList();
    assertEquals(4, warnings.size(), "one warning per tightened path: " + warnings);
    assertTrue(warnings.stream().anyMatch(w -> w.contains("data directory " + dataDir) && w.contains("rwxr-xr-x")));
    for (Path file : files) {
      assertEquals(1, warnings.stream().filter(w -> w.contains(file.toString()) && w.contains("rw-r--r--")).count(),
          "one warning for " + file.getFileName());
    }
  }

  /**
   * A data directory of another user is refused before anything is written in it: its owner could
   * replace the store or the spool, and only its owner can take its permissions away. (In a
   * container, the volume's root is root's, mode 0777; the server used to fail there trying to
   * tighten it, and now makes its own directory inside it: the image's /data/auth.)
   */
  @Test
  void aDataDirectoryOfAnotherUserIsRefused() throws Exception {
    long self = new com.sun.security.auth.module.UnixSystem().getUid();
    if (self == 0) {
      Files.createDirectory(dataDir);
      Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxrwxrwx"));
      Files.setAttribute(dataDir, "unix:uid", 65532);
    } else {
      dataDir = Path.of("/");   // root's, and not this user's
    }
    IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> AuthServer.start(config().build()).close());
    assertTrue(refused.getMessage().contains("the data directory " + dataDir + " belongs to uid")
        && refused.getMessage().contains("AUTH_DATA_DIR"), refused.getMessage());
    if (self == 0) {
      assertEquals("rwxrwxrwx", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir)), "left as found");
      try (Stream<Path> entries = Files.list(dataDir)) {
        assertEquals(List.of(), entries.toList(), "nothing written in it");
      }
    }
  }

  /**
   * A file in the data directory that another user made (here the spool) is refused at start:
   * the directory's owner check alone would not catch one put there while it was open to others.
   */
  @Test
  void aFileOfAnotherUserInTheDataDirectoryIsRefused() throws Exception {
    assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0, "making a file of another user needs root");
    AuthServer.start(config().build()).close();
    Path spool = dataDir.resolve(MvStoreAuditSpool.FILE_NAME);
    Files.setAttribute(spool, "unix:uid", 65532);
    IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> AuthServer.start(config().build()).close());
    assertTrue(refused.getMessage().contains(spool + " belongs to uid 65532"), refused.getMessage());
  }

  /**
   * A directory of another user in the data directory (a mount's lost+found, an operator's folder)
   * is left as it is with a warning, not refused: the server keeps only files there. A symbolic
   * link of another user is refused like a file of theirs: the store would follow it.
   */
  @Test
  void aDirectoryOfAnotherUserIsLeftAndALinkOfAnotherUserRefused() throws Exception {
    assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0, "making files of another user needs root");
    AuthServer.start(config().build()).close();
    Path lostAndFound = Files.createDirectory(dataDir.resolve("lost+found"));
    Files.setAttribute(lostAndFound, "unix:uid", 65532);
    AuthServer.start(config().build()).close();

    Path link = Files.createSymbolicLink(dataDir.resolve("notes.txt"), tmp.resolve("elsewhere.txt"));
    Files.setAttribute(link, "unix:uid", 65532, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> AuthServer.start(config().build()).close());
    assertTrue(refused.getMessage().contains(link + " belongs to uid 65532"), refused.getMessage());
  }

  /**
   * Upgrading an image whose data directory was /data to one whose is /data/auth: the new, empty
   * directory would start an empty store and leave the spool unreplayed, so the start is refused
   * with what to move where.
   */
  @Test
  void aNewDataDirectoryBesideADataDirectorysFilesIsRefused() throws Exception {
    Files.createDirectory(dataDir);
    Path old = Files.writeString(dataDir.resolve(EmbeddedStore.FILE_NAME), "earlier");
    Path moved = dataDir;
    dataDir = moved.resolve("auth");
    IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> AuthServer.start(config().build()).close());
    assertTrue(refused.getMessage().contains("the data directory " + dataDir + " does not exist, but " + moved
        + " holds a data directory's files (" + EmbeddedStore.FILE_NAME + ")"), refused.getMessage());
    assertFalse(Files.exists(dataDir), "nothing made");
    assertEquals("earlier", Files.readString(old));
  }

  @Test
  void theConnectionStringFileIsWrittenOnlyWhenAskedForAndOnlyForTheOwner() throws Exception {
    Path uriFile = dataDir.resolve(EmbeddedStore.URI_FILE_NAME);
    try (AuthServer server = AuthServer.start(config().build())) {
      assertFalse(Files.exists(uriFile), "the credential stays in memory by default");
    }
    try (AuthServer server = AuthServer.start(config().embeddedStoreUriFile(true).build())) {
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(uriFile)));
      // a tool of the same OS user (the benchmark) reaches the store with it
      try (MongoClient client = MongoClients.create(Files.readString(uriFile).trim())) {
        assertEquals(1, client.getDatabase("auth").getCollection("users")
            .countDocuments(Filters.eq("username", TestServer.ADMIN)));
      }
    }
    assertFalse(Files.exists(uriFile), "removed at shutdown: its credential died with the store");
  }

  /** Name to permissions of the data directory (".") and everything in it. */
  private Map<String, String> permissions() throws IOException {
    Map<String, String> found = new TreeMap<>();
    found.put(".", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir)));
    try (Stream<Path> entries = Files.list(dataDir)) {
      for (Path entry : entries.toList()) {
        found.put(entry.getFileName().toString(), PosixFilePermissions.toString(Files.getPosixFilePermissions(entry)));
      }
    }
    return found;
  }
}
