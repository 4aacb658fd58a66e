package dev.authservice.embedded;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

/**
 * How the embedded store keeps documents and index keys on disk: as BSON, the format they
 * arrive in, instead of H2's default Java serialization, which is slow to write and read and,
 * for index keys, orders them by their serialized bytes. Index keys compare the way MongoDB
 * orders values, so an index can be walked in order for range queries and sorts.
 */
final class BsonDataTypes {
  private BsonDataTypes() {}

  /** Documents as BSON. */
  static final class DocumentType extends BasicDataType<Document> {
    static final DocumentType INSTANCE = new DocumentType();

    @Override
    public int getMemory(Document document) {
      return estimate(document);
    }

    @Override
    public void write(WriteBuffer buffer, Document document) {
      buffer.put(encode(document));
    }

    @Override
    public Document read(ByteBuffer buffer) {
      return decode(buffer);
    }

    @Override
    public Document[] createStorage(int size) {
      return new Document[size];
    }
  }

  /**
   * Index keys, ordered value by value in MongoDB's comparison order, a shorter key before every
   * longer key it is a prefix of.
   */
  static final class KeyValueType extends BasicDataType<KeyValue> {
    /** The strings of keys read from disk, one object per value (one set per database's indexes). */
    private final CanonicalStrings strings;

    KeyValueType(CanonicalStrings strings) {
      this.strings = strings;
    }

    @Override
    public int compare(KeyValue a, KeyValue b) {
      int n = Math.min(a.size(), b.size());
      for (int i = 0; i < n; i++) {
        int c = compareValues(a.get(i), b.get(i));
        if (c != 0) {
          return c;
        }
      }
      return Integer.compare(a.size(), b.size());
    }

    /**
     * The library's comparison, which first ranks both values' types by walking a list of classes;
     * a B-tree step compares a dozen keys, so the two types index keys mostly hold, strings and
     * dates, are compared here directly, exactly as the library compares two of them.
     */
    private static int compareValues(Object x, Object y) {
      if (x instanceof String s && y instanceof String t) {
        return s.compareTo(t);
      }
      if (x instanceof Instant s && y instanceof Instant t) {
        return s.compareTo(t);
      }
      return ValueComparator.asc().compare(x, y);
    }

    @Override
    public int getMemory(KeyValue key) {
      int size = 24;
      for (Object value : key) {
        size += estimateValue(value);
      }
      return size;
    }

    @Override
    public void write(WriteBuffer buffer, KeyValue key) {
      buffer.putVarInt(key.size());
      for (Object value : key) {
        writeKeyPart(buffer, value);
      }
    }

    @Override
    public KeyValue read(ByteBuffer buffer) {
      int size = DataUtils.readVarInt(buffer);
      Object[] values = new Object[size];
      for (int i = 0; i < size; i++) {
        Object value = readKeyPart(buffer);
        values[i] = value instanceof String text ? strings.of(text) : value;
      }
      return new KeyValue(values);
    }

    @Override
    public KeyValue[] createStorage(int size) {
      return new KeyValue[size];
    }
  }

  // Index keys are mostly strings, numbers and dates, and written on every commit of a page, so
  // those get a compact form of their own; anything else is a one-value BSON document.
  private static final byte NULL = 0;
  private static final byte STRING = 1;
  private static final byte DOUBLE = 2;
  private static final byte LONG = 3;
  private static final byte INT = 4;
  private static final byte INSTANT = 5;
  private static final byte TRUE = 6;
  private static final byte FALSE = 7;
  private static final byte OTHER = 8;

  private static void writeKeyPart(WriteBuffer buffer, Object value) {
    if (value == null) {
      buffer.put(NULL);
    } else if (value instanceof String s) {
      buffer.put(STRING).putVarInt(s.length()).putStringData(s, s.length());
    } else if (value instanceof Double d) {
      buffer.put(DOUBLE).putDouble(d);
    } else if (value instanceof Long l) {
      buffer.put(LONG).putVarLong(l);
    } else if (value instanceof Integer i) {
      buffer.put(INT).putVarInt(i);
    } else if (value instanceof Instant t && t.getNano() % 1_000_000 == 0) {
      buffer.put(INSTANT).putVarLong(t.toEpochMilli());
    } else if (value instanceof Boolean b) {
      buffer.put(b ? TRUE : FALSE);
    } else {
      buffer.put(OTHER).put(encode(new Document("v", value)));
    }
  }

  private static Object readKeyPart(ByteBuffer buffer) {
    byte tag = buffer.get();
    return switch (tag) {
      case NULL -> null;
      case STRING -> DataUtils.readString(buffer, DataUtils.readVarInt(buffer));
      case DOUBLE -> buffer.getDouble();
      case LONG -> DataUtils.readVarLong(buffer);
      case INT -> DataUtils.readVarInt(buffer);
      case INSTANT -> Instant.ofEpochMilli(DataUtils.readVarLong(buffer));
      case TRUE -> Boolean.TRUE;
      case FALSE -> Boolean.FALSE;
      case OTHER -> decode(buffer).get("v");
      default -> throw new IllegalStateException("unknown index key part " + tag);
    };
  }

  private static byte[] encode(Document document) {
    ByteBuf out = Unpooled.buffer(256);
    try {
      BsonEncoder.encodeDocument(document, out);
      byte[] bytes = new byte[out.readableBytes()];
      out.readBytes(bytes);
      return bytes;
    } finally {
      out.release();
    }
  }

  private static Document decode(ByteBuffer buffer) {
    int length = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt();
    ByteBuffer slice = buffer.slice(buffer.position(), length);
    buffer.position(buffer.position() + length);
    return BsonDecoder.decodeBson(Unpooled.wrappedBuffer(slice));
  }

  /** A rough in-memory size, which MVStore uses to size its cache and split pages. */
  private static int estimate(Map<String, ?> document) {
    int size = 48;
    for (Map.Entry<String, ?> entry : document.entrySet()) {
      size += 32 + 2 * entry.getKey().length() + estimateValue(entry.getValue());
    }
    return size;
  }

  private static int estimateValue(Object value) {
    if (value instanceof String s) {
      return 40 + 2 * s.length();
    }
    if (value instanceof Document d) {
      return estimate(d);
    }
    if (value instanceof Collection<?> c) {
      int size = 40;
      for (Object element : c) {
        size += 8 + estimateValue(element);
      }
      return size;
    }
    if (value instanceof byte[] b) {
      return 16 + b.length;
    }
    return 24;
  }

  static List<Object> valuesOf(KeyValue key) {
    List<Object> values = new ArrayList<>(key.size());
    key.forEach(values::add);
    return values;
  }
}
