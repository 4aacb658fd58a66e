package dev.authservice.server.routes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Reloading: by content, a broken edit reported once and the rules kept, a missing or huge file. */
class RoutesFileTest {
  @TempDir Path dir;

  @Test
  void aBrokenEditKeepsTheRulesAndIsReportedOnceUntilTheFileChanges() throws Exception {
    Path path = dir.resolve("routes");
    Files.writeString(path, "/a/ admin\n");
    RoutesFile file = RoutesFile.load(path);
    Logger logger = (Logger) LoggerFactory.getLogger(RoutesFile.class);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    logger.addAppender(log);
    try {
      Files.writeString(path, "/a/ reader\nnot a rule\n");
      for (int i = 0; i < 3; i++) {
        file.reloadIfChanged();
      }
      assertEquals(Set.of("admin"), file.rules().match("GET", "/a/x").orElseThrow().roles());
      assertEquals(1, log.list.stream().filter(e -> e.getFormattedMessage().contains("line 2")).count(),
          "one error for one broken content, however often it is looked at");

      Files.delete(path);
      file.reloadIfChanged();
      file.reloadIfChanged();
      assertEquals(1, log.list.stream().filter(e -> e.getFormattedMessage().contains("cannot read it")).count());

      Files.writeString(path, "/a/ reader\n");
      file.reloadIfChanged();
      file.reloadIfChanged();
      assertEquals(Set.of("reader"), file.rules().match("GET", "/a/x").orElseThrow().roles());
    } finally {
      logger.detachAppender(log);
    }
  }

  @Test
  void contentSeenOnlyOnceIsNotApplied() throws Exception {
    Path path = dir.resolve("routes");
    String full = "/a/ admin\n/b/ admin\n";
    Files.writeString(path, full);
    RoutesFile file = RoutesFile.load(path);
    // a look in the middle of a rewrite finds a file cut at a line end: it parses, with /b/ gone
    Files.writeString(path, "/a/ admin\n");
    file.reloadIfChanged();
    Files.writeString(path, full);
    file.reloadIfChanged();
    file.reloadIfChanged();
    assertTrue(file.rules().match("GET", "/b/x").isPresent(), "a half-written file was applied");

    Files.writeString(path, "/a/ admin\n");
    file.reloadIfChanged();
    assertTrue(file.rules().match("GET", "/b/x").isPresent());
    file.reloadIfChanged();
    assertTrue(file.rules().match("GET", "/b/x").isEmpty(), "a settled edit takes effect at the second look");
  }

  @Test
  void anEditKeepingSizeAndTimeIsStillSeen() throws Exception {
    Path path = dir.resolve("routes");
    Files.writeString(path, "/a/ admin\n");
    RoutesFile file = RoutesFile.load(path);
    var time = Files.getLastModifiedTime(path);
    Files.writeString(path, "/b/ admin\n");
    Files.setLastModifiedTime(path, time);
    file.reloadIfChanged();
    file.reloadIfChanged();
    assertTrue(file.rules().match("GET", "/b/").isPresent());
  }

  @Test
  void aFileTooLargeOrNotUtf8IsRefusedAtStart() throws Exception {
    Path huge = dir.resolve("huge");
    Files.write(huge, new byte[RoutesFile.MAX_BYTES + 1]);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RoutesFile.load(huge)).getMessage()
        .contains("larger than"));
    Path binary = dir.resolve("binary");
    Files.write(binary, new byte[] {'/', ' ', 'a', (byte) 0xff, '\n'});
    assertTrue(assertThrows(IllegalArgumentException.class, () -> RoutesFile.load(binary)).getMessage()
        .contains("not UTF-8"));
  }
}
