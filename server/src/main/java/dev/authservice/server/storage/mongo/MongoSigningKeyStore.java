package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Updates;
import dev.authservice.server.keys.KeyEncryption;
import dev.authservice.server.keys.SigningAlgorithm;
import dev.authservice.server.keys.SigningKey;
import dev.authservice.server.keys.SigningKeyStore;
import dev.authservice.server.keys.StoredKeys;
import dev.authservice.server.keys.UntrustedKey;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bson.Document;
import org.bson.types.Binary;

/**
 * Signing keys in one collection ({@code signing_keys} for tokens, {@code audit_signing_keys}
 * for audit checkpoints): {@code _id} is the {@code kid}, {@code generation} is uniquely indexed
 * so concurrent starts and rotations agree on one key per generation. The private key is stored
 * AES-GCM encrypted ({@code private_key_sealed}) or, only in insecure development mode, in the
 * clear ({@code private_key_pkcs8}).
 *
 * <p>Reading trusts nothing a store writer could have made: with a key-encryption key, a
 * document is used only if its private key opens under it and belongs to its public key.
 */
final class MongoSigningKeyStore implements SigningKeyStore {
  static final String COLLECTION = "signing_keys";
  private static final String SEALED = "private_key_sealed";
  private static final String PLAINTEXT = "private_key_pkcs8";
  private static final String PUBLIC = "public_key_x509";

  private final MongoCollection<Document> keys;
  private final KeyEncryption encryption;
  private final WriteBarrier barrier;
  /**
   * Key pairs already opened and checked, by kid, with the stored bytes they came from: a reload
   * (every few seconds, and on unknown kids) then costs no decryption or test signature for a
   * document that has not changed, while any changed byte is checked afresh.
   */
  private final Map<String, Checked> checked = new ConcurrentHashMap<>();

  private record Checked(String alg, Binary privateKey, Binary publicKey, PrivateKey privateValue,
      PublicKey publicValue) {
    boolean sameAs(String alg, Binary privateKey, Binary publicKey) {
      return this.alg.equals(alg) && this.privateKey.equals(privateKey) && this.publicKey.equals(publicKey);
    }
  }

  MongoSigningKeyStore(MongoCollection<Document> keys, KeyEncryption encryption, WriteBarrier barrier) {
    this.keys = keys;
    this.encryption = encryption;
    this.barrier = barrier;
  }

  @Override
  public String name() {
    return keys.getNamespace().getCollectionName();
  }

  @Override
  public StoredKeys load() {
    List<SigningKey> trusted = new ArrayList<>();
    List<UntrustedKey> untrusted = new ArrayList<>();
    int highest = 0;
    Set<String> seen = new HashSet<>();
    for (Document doc : keys.find()) {
      seen.add(String.valueOf(doc.get("_id")));
      Read read = read(doc);
      highest = Math.max(highest, claimedGeneration(doc));
      if (read.reason() == null) {
        trusted.add(read.key());
      } else {
        untrusted.add(new UntrustedKey(UntrustedKey.printable(read.kid()), claimedGeneration(doc), read.reason()));
      }
    }
    checked.keySet().retainAll(seen);
    return new StoredKeys(trusted, untrusted, highest);
  }

  @Override
  public boolean insertIfGenerationFree(SigningKey key) {
    encryption.requireMayStoreNewKeys();
    byte[] pkcs8 = key.privateKey().getEncoded();
    Document doc = new Document("_id", key.kid())
        .append("generation", key.generation())
        .append("alg", key.algorithm().jwsName())
        .append(PUBLIC, new Binary(key.publicKey().getEncoded()))
        .append("created_at", Date.from(key.createdAt()));
    if (encryption.hasKek()) {
      doc.append(SEALED, new Binary(encryption.seal(key.kid(), pkcs8)));
    } else {
      doc.append(PLAINTEXT, new Binary(pkcs8));
    }
    Arrays.fill(pkcs8, (byte) 0);
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

  @Override
  public boolean encryptStoredPlaintext(String kid) {
    Document doc = keys.find(eq("_id", kid)).first();
    if (doc == null || !encryption.hasKek() || read(doc).reason() != UntrustedKey.Reason.PLAINTEXT) {
      return false;
    }
    Binary plaintext = doc.get(PLAINTEXT, Binary.class);
    byte[] pkcs8 = plaintext.getData();
    Binary sealed = new Binary(encryption.seal(kid, pkcs8));
    Arrays.fill(pkcs8, (byte) 0);
    // only the document as checked above: not one changed in between
    long changed = keys.updateOne(
        and(eq("_id", kid), eq(PLAINTEXT, plaintext), eq(PUBLIC, doc.get(PUBLIC)), eq("alg", doc.get("alg"))),
        Updates.combine(Updates.set(SEALED, sealed), Updates.unset(PLAINTEXT))).getModifiedCount();
    barrier.afterWrite();
    return changed == 1;
  }

  /**
   * The generation a document holds, whatever its numeric type: the unique index compares
   * numbers by value, so a planted {@code 7L} takes generation 7 as much as {@code 7} does.
   */
  private static int claimedGeneration(Document doc) {
    if (doc.get("generation") instanceof Number n) {
      double value = Math.ceil(n.doubleValue());
      return value >= Integer.MAX_VALUE ? Integer.MAX_VALUE : value <= 0 ? 0 : (int) value;
    }
    return 0;
  }

  /** A document read: the key when it is trusted ({@code reason} null), else why not. */
  private record Read(String kid, int generation, SigningKey key, UntrustedKey.Reason reason) {}

  private Read read(Document doc) {
    String kid = doc.get("_id") instanceof String s ? s : String.valueOf(doc.get("_id"));
    int generation = doc.get("generation") instanceof Integer g ? g : 0;
    try {
      Binary sealed = doc.get(SEALED) instanceof Binary b ? b : null;
      Binary plaintext = doc.get(PLAINTEXT) instanceof Binary b ? b : null;
      Binary publicKey = doc.get(PUBLIC) instanceof Binary b ? b : null;
      if (generation <= 0 || publicKey == null || !(doc.get("alg") instanceof String alg)) {
        return new Read(kid, generation, null, UntrustedKey.Reason.UNREADABLE);
      }
      // under a KEK a clear private key proves nothing: whoever can write the store could have put it there
      boolean clearUnderKek = encryption.hasKek() && plaintext != null;
      Optional<byte[]> pkcs8;
      if (clearUnderKek) {
        pkcs8 = Optional.of(plaintext.getData());
      } else if (sealed != null) {
        if (!encryption.hasKek()) {
          return new Read(kid, generation, null, UntrustedKey.Reason.NO_KEK);
        }
        pkcs8 = encryption.open(kid, sealed.getData());
        if (pkcs8.isEmpty()) {
          return new Read(kid, generation, null, UntrustedKey.Reason.WRONG_KEK);
        }
      } else if (plaintext != null) {
        pkcs8 = Optional.of(plaintext.getData());
      } else {
        return new Read(kid, generation, null, UntrustedKey.Reason.UNREADABLE);
      }
      SigningAlgorithm algorithm = SigningAlgorithm.fromJwsName(alg);
      Binary storedPrivate = clearUnderKek || sealed == null ? plaintext : sealed;
      Checked pair = checked.get(kid);
      if (pair == null || !pair.sameAs(alg, storedPrivate, publicKey)) {
        KeyFactory factory = algorithm.keyFactory();
        PrivateKey privateKey;
        try {
          privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(pkcs8.get()));
        } finally {
          Arrays.fill(pkcs8.get(), (byte) 0);
        }
        PublicKey publicKeyValue = factory.generatePublic(new X509EncodedKeySpec(publicKey.getData()));
        if (!algorithm.isPair(privateKey, publicKeyValue)) {
          checked.remove(kid);
          return new Read(kid, generation, null, UntrustedKey.Reason.MISMATCHED);
        }
        pair = new Checked(alg, storedPrivate, publicKey, privateKey, publicKeyValue);
        if (!clearUnderKek) {
          checked.put(kid, pair);
        }
      } else {
        Arrays.fill(pkcs8.get(), (byte) 0);
      }
      if (clearUnderKek) {
        return new Read(kid, generation, null, UntrustedKey.Reason.PLAINTEXT);
      }
      SigningKey key = new SigningKey(kid, generation, algorithm, pair.privateValue(), pair.publicValue(),
          Documents.instant(doc, "created_at"),
          Optional.ofNullable(doc.get("verify_until") instanceof Date d ? d : null).map(Date::toInstant));
      return new Read(kid, generation, key, null);
    } catch (GeneralSecurityException | RuntimeException e) {
      // an unknown alg, bytes that are no key, fields of the wrong type: not a document this server wrote
      return new Read(kid, generation, null, UntrustedKey.Reason.UNREADABLE);
    }
  }
}
