package dev.authservice.server.storage.mongo;

import com.mongodb.client.MongoCollection;
import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bson.BsonReader;
import org.bson.BsonReaderMark;
import org.bson.BsonType;
import org.bson.BsonWriter;
import org.bson.Document;
import org.bson.codecs.Codec;
import org.bson.codecs.DecoderContext;
import org.bson.codecs.EncoderContext;
import org.bson.codecs.configuration.CodecRegistries;
import org.bson.codecs.configuration.CodecRegistry;

/**
 * Reads a stored audit event from BSON straight into the fields {@link MongoAuditStore#toEvent}
 * reads, with no {@link Document} in between: what StreamAudit reads most (a chain page is a
 * thousand events, every one decoded once).
 *
 * <p>It gives exactly what {@code toEvent} gives for the same stored document. A document whose
 * known fields all have the types the writer gives them (strings, dates, integers; a missing or
 * null field is read as {@code toEvent} reads it) is read field by field, unknown fields
 * skipped, a repeated field's last value kept (as a {@code Document} keeps it). Any other
 * document (a field of another type: edited, or from another writer) is read again from its
 * start into a {@code Document}, which {@code toEvent} then maps as before. Nothing is mapped
 * during decoding: a document that cannot become an event fails when {@link Stored#toEvent} is
 * called, with the exception {@code toEvent} throws, not inside the driver.
 *
 * <p>Verification never reads through this codec: it hashes the document as stored
 * ({@link MongoAuditStore#toChained}).
 */
final class StoredEventCodec implements Codec<StoredEventCodec.Stored> {
  /** A decoded event document; {@link #toEvent} maps it as {@link MongoAuditStore#toEvent} does. */
  sealed interface Stored permits Plain, Odd {
    AuditEvent toEvent();
  }

  /** A document read as a whole, for the mapping of documents. */
  record Odd(Document document) implements Stored {
    @Override
    public AuditEvent toEvent() {
      return MongoAuditStore.toEvent(document);
    }
  }

  private final Codec<Document> documents;

  StoredEventCodec(Codec<Document> documents) {
    this.documents = documents;
  }

  /** The collection of event documents, read through this codec (its filters still encoded as before). */
  static MongoCollection<Stored> readingDirectly(MongoCollection<Document> events) {
    CodecRegistry registry = events.getCodecRegistry();
    return events.withDocumentClass(Stored.class).withCodecRegistry(CodecRegistries.fromRegistries(
        CodecRegistries.fromCodecs(new StoredEventCodec(registry.get(Document.class))), registry));
  }

  @Override
  public Class<Stored> getEncoderClass() {
    return Stored.class;
  }

  @Override
  public void encode(BsonWriter writer, Stored value, EncoderContext context) {
    // events are written as documents (MongoAuditStore.toDocument); this codec only reads
    throw new UnsupportedOperationException("StoredEventCodec only decodes");
  }

  @Override
  public Stored decode(BsonReader reader, DecoderContext context) {
    BsonReaderMark start = reader.getMark();
    Plain plain = new Plain();
    if (readPlain(reader, context, plain)) {
      return plain;
    }
    start.reset();
    return new Odd(documents.decode(reader, context));
  }

  /** Reads the document into {@code into}; false (part read) at the first field of another type. */
  private boolean readPlain(BsonReader reader, DecoderContext context, Plain into) {
    reader.readStartDocument();
    while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
      String name = reader.readName();
      BsonType type = reader.getCurrentBsonType();
      switch (name) {
        case "_id", "type", "outcome", "username", "subject", "token_id", "client_ip", "user_agent", "rpc_method",
            "reason", "instance", "actor", "peer_identity", "trace_id", "chain", "prev_hash", "hash" -> {
          if (type != BsonType.STRING && type != BsonType.NULL) {
            return false;
          }
          into.text(name, type == BsonType.STRING ? reader.readString() : readNull(reader));
        }
        case "time", "first_time", "last_time" -> {
          if (type != BsonType.DATE_TIME && type != BsonType.NULL) {
            return false;
          }
          into.date(name, type == BsonType.DATE_TIME ? Long.valueOf(reader.readDateTime()) : readNull(reader));
        }
        case "count", "seq" -> {
          // 32- and 64-bit integers; a double or a decimal (which toEvent truncates) takes the Document path
          if (type != BsonType.INT64 && type != BsonType.INT32 && type != BsonType.NULL) {
            return false;
          }
          Long value = type == BsonType.INT64 ? Long.valueOf(reader.readInt64())
              : type == BsonType.INT32 ? Long.valueOf(reader.readInt32()) : readNull(reader);
          if (name.equals("count")) {
            into.count = value;
          } else {
            into.seq = value;
          }
        }
        case "alert" -> {
          // rare (ALERT events only), and read as a Document by toEvent: decoded as one here
          if (type != BsonType.DOCUMENT && type != BsonType.NULL) {
            return false;
          }
          into.alert = type == BsonType.DOCUMENT ? documents.decode(reader, context) : readNull(reader);
        }
        default -> reader.skipValue();
      }
    }
    reader.readEndDocument();
    return true;
  }

  /** A null field is what a missing one is to {@code Document.get}. */
  private static <T> T readNull(BsonReader reader) {
    reader.readNull();
    return null;
  }

  /** A document whose fields are all of the writer's types; null where the field is missing or null. */
  static final class Plain implements Stored {
    String id;
    Long time;
    String type;
    String outcome;
    String username;
    String subject;
    String tokenId;
    String clientIp;
    String userAgent;
    String rpcMethod;
    String reason;
    String instance;
    String actor;
    String peerIdentity;
    String traceId;
    Long count;
    Long firstTime;
    Long lastTime;
    Document alert;
    String chain;
    Long seq;
    String prevHash;
    String hash;

    void text(String field, String value) {
      switch (field) {
        case "_id" -> id = value;
        case "type" -> type = value;
        case "outcome" -> outcome = value;
        case "username" -> username = value;
        case "subject" -> subject = value;
        case "token_id" -> tokenId = value;
        case "client_ip" -> clientIp = value;
        case "user_agent" -> userAgent = value;
        case "rpc_method" -> rpcMethod = value;
        case "reason" -> reason = value;
        case "instance" -> instance = value;
        case "actor" -> actor = value;
        case "peer_identity" -> peerIdentity = value;
        case "trace_id" -> traceId = value;
        case "chain" -> chain = value;
        case "prev_hash" -> prevHash = value;
        case "hash" -> hash = value;
        default -> throw new IllegalArgumentException(field);
      }
    }

    void date(String field, Long value) {
      switch (field) {
        case "time" -> time = value;
        case "first_time" -> firstTime = value;
        case "last_time" -> lastTime = value;
        default -> throw new IllegalArgumentException(field);
      }
    }

    /** {@link MongoAuditStore#toEvent}, step for step, on the values read. */
    @Override
    public AuditEvent toEvent() {
      return new AuditEvent(orEmpty(id), time == null ? Instant.EPOCH : new Date(time).toInstant(),
          AuditEventType.fromStoredName(type), AuditOutcome.fromStoredName(outcome),
          orEmpty(username), orEmpty(subject), orEmpty(tokenId), orEmpty(clientIp), orEmpty(userAgent),
          orEmpty(rpcMethod), orEmpty(reason), orEmpty(instance), orEmpty(actor), orEmpty(peerIdentity),
          orEmpty(traceId), count == null ? 1L : Math.max(1L, count),
          firstTime == null ? null : new Date(firstTime).toInstant(),
          lastTime == null ? null : new Date(lastTime).toInstant(),
          alert == null ? Optional.empty() : MongoAuditStore.alert(alert), orEmpty(chain),
          seq == null ? 0L : seq, orEmpty(prevHash), orEmpty(hash));
    }

    private static String orEmpty(String value) {
      return value == null ? "" : value;
    }
  }
}
