package dev.authservice.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.bson.Document;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit larger than a write buffer's initial 1 MiB (a bulk insert, an idle compaction) grows
 * the buffer, and the MVStore keeps up to four such buffers (up to 4 MiB each) for as long as it
 * is open; the store gives the grown ones back ({@link WriteBufferTrim}).
 */
class WriteBufferTrimTest {
  private static final int GROWN = WriteBufferTrim.INITIAL_CAPACITY;

  @TempDir
  Path dir;

  @Test
  void aBulkInsertLeavesNoGrownWriteBufferBehind() throws Exception {
    try (EmbeddedStore store = EmbeddedStore.start(dir);
        MongoClient client = MongoClients.create(store.clientSettings())) {
      assertNotEquals(-1, store.largestPooledWriteBuffer(), "the MVStore's write buffer pool is not reachable");
      // about 2.5 MiB in one commit: more than a buffer's initial size, less than the 4 MiB the library keeps
      client.getDatabase("db").getCollection("c").insertMany(documents(1_200, 1_000));
      store.commitAndSync();
      Await.until("no pooled write buffer above " + GROWN + " bytes (largest: " + store.largestPooledWriteBuffer() + ")",
          10, () -> store.largestPooledWriteBuffer() <= GROWN);
    }
  }

  @Test
  void trimmingDropsOnlyGrownBuffers() throws Exception {
    MVStore mvStore = new MVStore.Builder().fileName(dir.resolve("t.mv.db").toString()).open();
    try {
      WriteBufferTrim trim = WriteBufferTrim.of(mvStore);
      MVMap<Integer, String> map = mvStore.openMap("m");
      Random random = new Random(7);
      for (int i = 0; i < 1_200; i++) {
        map.put(i, text(random, 1_000));
      }
      mvStore.commit();
      // the library keeps the buffer the commit grew: what there is to trim
      Await.until("the commit's grown buffer pooled", 10, () -> trim.largestPooledCapacity() > GROWN);
      trim.trim();
      assertTrue(trim.largestPooledCapacity() <= GROWN, "a grown buffer was kept: " + trim.largestPooledCapacity());
      // a small commit's buffer has the initial size and stays pooled for the next commit
      map.put(-1, "small");
      mvStore.commit();
      Await.until("the small commit's buffer pooled", 10, () -> trim.largestPooledCapacity() == GROWN);
      trim.trim();
      assertEquals(GROWN, trim.largestPooledCapacity(), "a buffer of the initial size was dropped");
    } finally {
      mvStore.close();
    }
  }

  private static List<Document> documents(int count, int bytes) {
    Random random = new Random(42);
    List<Document> documents = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      documents.add(new Document("_id", i).append("payload", text(random, bytes)));
    }
    return documents;
  }

  /** Random hex: what no serializer shrinks. */
  private static String text(Random random, int length) {
    byte[] bytes = new byte[length / 2];
    random.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
