package dev.authservice.server.storage.mongo;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import dev.authservice.server.storage.WriteBarrier;
import dev.authservice.server.token.SigningKey;
import dev.authservice.server.token.SigningKeyStore;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.types.Binary;

/**
 * Signing keys in the {@code signing_keys} collection: {@code _id} is the {@code kid},
 * {@code generation} is uniquely indexed so concurrent first starts agree on one key.
 */
final class MongoSigningKeyStore implements SigningKeyStore {
  static final String COLLECTION = "signing_keys";

  private final MongoCollection<Document> keys;
  private final WriteBarrier barrier;

  MongoSigningKeyStore(MongoCollection<Document> keys, WriteBarrier barrier) {
    this.keys = keys;
    this.barrier = barrier;
  }

  @Override
  public List<SigningKey> loadAll() {
    List<SigningKey> all = new ArrayList<>();
    keys.find().forEach(doc -> all.add(toKey(doc)));
    return all;
  }

  @Override
  public boolean insertIfGenerationFree(SigningKey key) {
    Document doc = new Document("_id", key.kid())
        .append("generation", key.generation())
        .append("alg", key.algorithm())
        .append("private_key_pkcs8", new Binary(key.privateKey().getEncoded()))
        .append("public_key_x509", new Binary(key.publicKey().getEncoded()))
        .append("created_at", Date.from(key.createdAt()));
    try {
      keys.insertOne(doc);
    } catch (MongoWriteException e) {
      if (Documents.isDuplicateKey(e)) {
        return false;
      }
      throw e;
    }
    barrier.afterWrite();
    return true;
  }

  private static SigningKey toKey(Document doc) {
    String alg = doc.getString("alg");
    if (!"ES256".equals(alg)) {
      throw new IllegalStateException("signing key " + doc.getString("_id") + " has unsupported alg " + alg);
    }
    try {
      KeyFactory factory = KeyFactory.getInstance("EC");
      return new SigningKey(doc.getString("_id"), doc.getInteger("generation"), alg,
          factory.generatePrivate(new PKCS8EncodedKeySpec(doc.get("private_key_pkcs8", Binary.class).getData())),
          factory.generatePublic(new X509EncodedKeySpec(doc.get("public_key_x509", Binary.class).getData())),
          Documents.instant(doc, "created_at"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing key " + doc.getString("_id") + " cannot be decoded", e);
    }
  }
}
