package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection-string file belongs to the store that wrote it: a stale one is removed when a
 * store starts, but a second start on a directory in use fails without removing the running
 * store's file (its tools, such as the benchmark, still reach the store with it).
 */
class UriFileTest {
  @TempDir Path dir;

  @Test
  void aSecondStartOnADirectoryInUseLeavesTheRunningStoresFile() throws Exception {
    try (EmbeddedStore running = EmbeddedStore.start(dir)) {
      Path uriFile = running.writeUriFile();
      assertThrows(RuntimeException.class, () -> EmbeddedStore.start(dir).close(), "the store's file is locked");
      assertTrue(Files.exists(uriFile), "the running store's connection string is still there");
      try (MongoClient client = MongoClients.create(Files.readString(uriFile).trim())) {
        assertEquals(1.0, client.getDatabase("admin").runCommand(new Document("ping", 1)).get("ok", Number.class)
            .doubleValue());
      }
    }
    assertFalse(Files.exists(dir.resolve(EmbeddedStore.URI_FILE_NAME)), "removed when the store closes");
  }

  @Test
  void aStaleFileIsRemovedAtStart() throws Exception {
    Path stale = Files.writeString(dir.resolve(EmbeddedStore.URI_FILE_NAME), "mongodb://old\n");
    try (EmbeddedStore store = EmbeddedStore.start(dir)) {
      assertFalse(Files.exists(stale), "a file left by a store that died holds a dead credential");
    }
  }
}
