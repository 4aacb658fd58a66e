package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.eq;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import java.security.SecureRandom;
import org.bson.Document;
import org.bson.types.Binary;

/**
 * Random secrets every instance must share (such as the page-token MAC key), kept in the
 * {@code server_secrets} collection. The first instance to need one creates it.
 */
final class MongoServerSecrets {
  static final String COLLECTION = "server_secrets";

  private final MongoCollection<Document> secrets;
  private final WriteBarrier barrier;
  private final SecureRandom random = new SecureRandom();

  MongoServerSecrets(MongoCollection<Document> secrets, WriteBarrier barrier) {
    this.secrets = secrets;
    this.barrier = barrier;
  }

  byte[] getOrCreate(String name, int length) {
    Document existing = secrets.find(eq("_id", name)).first();
    if (existing != null) {
      return existing.get("value", Binary.class).getData();
    }
    byte[] value = new byte[length];
    random.nextBytes(value);
    try {
      secrets.insertOne(new Document("_id", name).append("value", new Binary(value)));
      barrier.afterWrite();
      return value;
    } catch (MongoWriteException e) {
      if (!Documents.isDuplicateKey(e)) {
        throw e;
      }
      return secrets.find(eq("_id", name)).first().get("value", Binary.class).getData();
    }
  }
}
