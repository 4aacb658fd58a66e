package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Updates;
import dev.authservice.server.storage.WriteBarrier;
import dev.authservice.server.token.KeyEncryption;
import dev.authservice.server.token.SigningAlgorithm;
import dev.authservice.server.token.SigningKey;
import dev.authservice.server.token.SigningKeyStore;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bson.Document;
import org.bson.types.Binary;

/**
 * Signing keys in the {@code signing_keys} collection: {@code _id} is the {@code kid},
 * {@code generation} is uniquely indexed so concurrent starts and rotations agree on one key
 * per generation. The private key is stored AES-GCM encrypted ({@code private_key_sealed})
 * or, only in insecure development mode, in the clear ({@code private_key_pkcs8}).
 */
final class MongoSigningKeyStore implements SigningKeyStore {
  static final String COLLECTION = "signing_keys";

  private final MongoCollection<Document> keys;
  private final KeyEncryption encryption;
  private final WriteBarrier barrier;

  MongoSigningKeyStore(MongoCollection<Document> keys, KeyEncryption encryption, WriteBarrier barrier) {
    this.keys = keys;
    this.encryption = encryption;
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
    encryption.requireMayStoreNewKeys();
    byte[] pkcs8 = key.privateKey().getEncoded();
    Document doc = new Document("_id", key.kid())
        .append("generation", key.generation())
        .append("alg", key.algorithm().jwsName())
        .append("public_key_x509", new Binary(key.publicKey().getEncoded()))
        .append("created_at", Date.from(key.createdAt()));
    if (encryption.hasKek()) {
      doc.append("private_key_sealed", new Binary(encryption.seal(key.kid(), pkcs8)));
    } else {
      doc.append("private_key_pkcs8", new Binary(pkcs8));
    }
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

  @Override
  public void retire(String kid, Instant verifyUntil) {
    keys.updateOne(and(eq("_id", kid), eq("verify_until", null)),
        Updates.set("verify_until", Date.from(verifyUntil)));
    barrier.afterWrite();
  }

  private SigningKey toKey(Document doc) {
    String kid = doc.getString("_id");
    SigningAlgorithm alg = SigningAlgorithm.fromJwsName(doc.getString("alg"));
    Binary sealed = doc.get("private_key_sealed", Binary.class);
    byte[] pkcs8 = sealed != null
        ? encryption.open(kid, sealed.getData())
        : doc.get("private_key_pkcs8", Binary.class).getData();
    try {
      KeyFactory factory = alg.keyFactory();
      return new SigningKey(kid, doc.getInteger("generation"), alg,
          factory.generatePrivate(new PKCS8EncodedKeySpec(pkcs8)),
          factory.generatePublic(new X509EncodedKeySpec(doc.get("public_key_x509", Binary.class).getData())),
          Documents.instant(doc, "created_at"),
          Optional.ofNullable(doc.getDate("verify_until")).map(Date::toInstant));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing key " + kid + " cannot be decoded", e);
    } finally {
      java.util.Arrays.fill(pkcs8, (byte) 0);
    }
  }

  /** Whether any stored key is kept unencrypted. */
  boolean anyUnencrypted() {
    return keys.find(com.mongodb.client.model.Filters.exists("private_key_pkcs8")).first() != null;
  }
}
