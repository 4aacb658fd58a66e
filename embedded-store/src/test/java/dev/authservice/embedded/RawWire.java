package dev.authservice.embedded;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * A bare MongoDB wire client on one TCP connection, for what a driver never sends: legacy
 * OP_QUERY requests, SASL messages out of order, forged proofs.
 */
final class RawWire implements AutoCloseable {
  private static final int OP_REPLY = 1;
  private static final int OP_QUERY = 2004;
  private static final int OP_MSG = 2013;

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private int requestId;

  RawWire(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** An OP_MSG command on a database; its answer. */
  BsonDocument command(String database, BsonDocument command) throws IOException {
    sendWithoutReading(database, command);
    ByteBuffer reply = receive(OP_MSG);
    reply.getInt();   // flags
    if (reply.get() != 0) {
      throw new IOException("expected a body section");
    }
    return document(reply);
  }

  /** Sends an OP_MSG command and does not read its answer; the bytes sent (blocks while the socket's buffers are full). */
  int sendWithoutReading(String database, BsonDocument command) throws IOException {
    byte[] message = message(command.clone().append("$db", new BsonString(database)));
    sendBytes(message, message.length);
    return message.length;
  }

  /** An OP_MSG whose body is exactly {@code body} (its {@code $db}, if any, as given), as bytes to send. */
  byte[] message(BsonDocument body) {
    byte[] document = bson(body);
    ByteBuffer message = header(16 + 4 + 1 + document.length, OP_MSG);
    message.putInt(0).put((byte) 0).put(document);
    return message.array();
  }

  /** Sends bytes as they are, whatever they say (blocks while the socket's buffers are full). */
  void sendBytes(byte[] bytes, int length) throws IOException {
    out.write(bytes, 0, length);
    out.flush();
  }

  /** A legacy OP_QUERY on a full collection name ("db.collection" or "db.$cmd"); the documents of its reply. */
  List<BsonDocument> query(String fullCollectionName, BsonDocument query) throws IOException {
    byte[] name = (fullCollectionName + "\0").getBytes(StandardCharsets.UTF_8);
    byte[] document = bson(query);
    ByteBuffer message = header(16 + 4 + name.length + 8 + document.length, OP_QUERY);
    message.putInt(0).put(name).putInt(0).putInt(-1).put(document);
    send(message);
    ByteBuffer reply = receive(OP_REPLY);
    reply.getInt();   // response flags
    reply.getLong();  // cursor id
    reply.getInt();   // starting from
    int returned = reply.getInt();
    List<BsonDocument> documents = new ArrayList<>();
    for (int i = 0; i < returned; i++) {
      documents.add(document(reply));
    }
    return documents;
  }

  /** Whether the server closed this connection (waiting up to the socket timeout for it). */
  boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;   // reset
    }
  }

  /** Whether the server closed this connection, reading past whatever it answered first (up to the socket timeout). */
  boolean closedByServerAfterItsAnswers() throws IOException {
    byte[] discard = new byte[8192];
    try {
      while (in.read(discard) >= 0) {
        // answers sent before the close
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;   // reset
    }
  }

  private ByteBuffer header(int length, int opCode) {
    ByteBuffer message = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    return message.putInt(length).putInt(++requestId).putInt(0).putInt(opCode);
  }

  private void send(ByteBuffer message) throws IOException {
    out.write(message.array());
    out.flush();
  }

  private ByteBuffer receive(int expectedOpCode) throws IOException {
    byte[] lengthBytes = new byte[4];
    in.readFully(lengthBytes);
    int length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (length < 16 || length > 48 * 1024 * 1024) {
      throw new EOFException("bad reply length " + length);
    }
    byte[] rest = new byte[length - 4];
    in.readFully(rest);
    ByteBuffer reply = ByteBuffer.wrap(rest).order(ByteOrder.LITTLE_ENDIAN);
    reply.getInt();   // request id
    reply.getInt();   // response to
    int opCode = reply.getInt();
    if (opCode != expectedOpCode) {
      throw new IOException("expected op code " + expectedOpCode + ", got " + opCode);
    }
    return reply;
  }

  private static byte[] bson(BsonDocument document) {
    ByteBuffer buffer = new RawBsonDocument(document, new BsonDocumentCodec()).getByteBuffer().asNIO();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  private static BsonDocument document(ByteBuffer reply) {
    int length = reply.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt();
    byte[] bytes = new byte[length];
    reply.get(bytes);
    return new RawBsonDocument(bytes).decode(new BsonDocumentCodec());
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
