package dev.authservice.embedded;

import com.mongodb.MongoCredential;
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import de.bwaldvogel.mongo.wire.message.MongoQuery;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SCRAM-SHA-256 in front of a mongo-java-server backend, which has no authentication of its own.
 * Every request reaches the backend with its connection (a Netty channel); until that connection
 * has authenticated as the one user, it may only say hello and ping and run {@code saslStart} /
 * {@code saslContinue}. Anything else is answered as MongoDB answers it: code 13, Unauthorized.
 *
 * <p>One authentication attempt per connection: a failed one is answered (code 18,
 * AuthenticationFailed) and the connection closed, so each guess costs a new connection. The
 * only state is one small object per connection that started authenticating, dropped when the
 * connection closes; a connection's requests run one at a time, in order ({@link WireServer}).
 *
 * <p>The library's own handler answers two legacy (OP_QUERY) commands without asking about the
 * connection: {@code ping}, harmless, and {@code serverStatus}, which goes to
 * {@link #getServerStatus()} and is refused here (the driver asks it through OP_MSG, which is checked).
 */
final class AuthenticatingBackend implements MongoBackend {
  private static final Logger log = LoggerFactory.getLogger(AuthenticatingBackend.class);
  private static final AttributeKey<Connection> CONNECTION =
      AttributeKey.valueOf(AuthenticatingBackend.class, "connection");
  /**
   * What MongoDB, too, answers before authentication, besides the SASL commands: the handshake
   * (the library knows it as isMaster only, so the driver never sends hello) and ping.
   */
  private static final Set<String> OPEN_COMMANDS = Set.of("ismaster", "ping");
  private static final int CONVERSATION_ID = 1;
  private static final String AUTHENTICATION_DATABASE = "admin";

  private final MongoBackend delegate;
  private final ScramSha256Server scram;
  private final ConnectionMarker marker;

  private AuthenticatingBackend(MongoBackend delegate, ScramSha256Server scram, ConnectionMarker marker) {
    this.delegate = delegate;
    this.scram = scram;
    this.marker = marker;
  }

  /** The backend, reachable only by a client holding this credential (a SCRAM-SHA-256 one in "admin"). */
  static AuthenticatingBackend guarding(MongoBackend delegate, MongoCredential credential) {
    return guarding(delegate, scramServer(credential), ConnectionMarker.of(credential));
  }

  /**
   * The server side of SCRAM for this credential: its key derivation (PBKDF2, 4,096 rounds) is
   * the costly part, which {@link EmbeddedStore#start} runs beside opening the store's file.
   */
  static ScramSha256Server scramServer(MongoCredential credential) {
    if (!ScramSha256Server.MECHANISM.equals(credential.getMechanism())
        || !AUTHENTICATION_DATABASE.equals(credential.getSource())) {
      throw new IllegalArgumentException("the embedded store takes a SCRAM-SHA-256 credential of the admin database");
    }
    return new ScramSha256Server(credential.getUserName(), credential.getPassword(), new SecureRandom());
  }

  /** The mark the store's own clients send (checked by the listener as each connection's first message arrives). */
  ConnectionMarker marker() {
    return marker;
  }

  /** The backend, reachable only through this SCRAM server's credential. */
  static AuthenticatingBackend guarding(MongoBackend delegate, ScramSha256Server scram, ConnectionMarker marker) {
    return new AuthenticatingBackend(delegate, scram, marker);
  }

  @Override
  public Document handleMessage(MongoMessage message) {
    Channel channel = message.getChannel();
    if (authenticated(channel)) {
      return answerOrRun(message, message.getDatabaseName());
    }
    try {
      if (!(message.getDocument().get("$db") instanceof String database)) {
        return failed(channel, "a message without a database name");
      }
      return answerOrRun(message, database);
    } catch (RuntimeException e) {
      // before authentication only the handshake, ping and SCRAM run: input that breaks them (the
      // library logs what it does not catch at ERROR with a stack trace, once per message) ends
      // the connection, with one line in the log
      return failed(channel, "a message the store could not read: " + e);   // failed() makes it printable
    }
  }

  private Document answerOrRun(MongoMessage message, String database) {
    Document document = message.getDocument();
    // the backend runs the command its first key names
    String command = document.isEmpty() ? "" : document.keySet().iterator().next();
    Document answer = answerHere(message.getChannel(), database, command, document);
    return answer != null ? answer : delegate.handleMessage(message);
  }

  @Override
  public Document handleCommand(Channel channel, String database, String command, Document query) {
    Document answer = answerHere(channel, database, command, query);
    return answer != null ? answer : delegate.handleCommand(channel, database, command, query);
  }

  @Override
  public QueryResult handleQuery(MongoQuery query) {
    if (!authenticated(query.getChannel())) {
      // a legacy query (OP_QUERY on a collection): the error document, with its legacy field, is the whole reply
      Document refused = unauthorized(query.getChannel(), "find");
      refused.put("$err", refused.get("errmsg"));
      return new QueryResult(List.of(refused));
    }
    return delegate.handleQuery(query);
  }

  @Override
  public Collection<Document> getCurrentOperations(MongoQuery query) {
    return authenticated(query.getChannel()) ? delegate.getCurrentOperations(query) : List.of();
  }

  @Override
  public Document getServerStatus() {
    // reached only through a legacy OP_QUERY serverStatus, which comes without its connection
    return error(13, "Unauthorized", "command serverStatus requires authentication");
  }

  @Override
  public void handleClose(Channel channel) {
    channel.attr(CONNECTION).set(null);
    delegate.handleClose(channel);
  }

  /** The answer to a command this class handles or refuses; null when the backend may run it. */
  private Document answerHere(Channel channel, String database, String name, Document command) {
    // the library matches command names regardless of case, and so does this
    switch (name.toLowerCase(Locale.ROOT)) {
      case "saslstart":
        return saslStart(channel, database, command);
      case "saslcontinue":
        return saslContinue(channel, command);
      default:
        if (authenticated(channel) || OPEN_COMMANDS.contains(name.toLowerCase(Locale.ROOT))) {
          return null;
        }
        return unauthorized(channel, name);
    }
  }

  private Document saslStart(Channel channel, String database, Document command) {
    Connection connection = connection(channel);
    if (!AUTHENTICATION_DATABASE.equals(database)) {
      return failed(channel, "authentication against database " + database);
    }
    if (!ScramSha256Server.MECHANISM.equals(command.get("mechanism"))) {
      failed(channel, "mechanism " + command.get("mechanism"));
      return error(334, "MechanismUnavailable", "Received authentication for mechanism " + command.get("mechanism")
          + " which is not enabled");
    }
    String payload = payload(command);
    if (payload == null) {
      return failed(channel, "saslStart without a payload of at most " + ScramSha256Server.MAX_MESSAGE_CHARS
          + " bytes");
    }
    try {
      connection.pending = scram.start(payload);
    } catch (ScramSha256Server.ScramException e) {
      return failed(channel, e.getMessage());
    }
    connection.skipEmptyExchange = command.get("options") instanceof Document options
        && Boolean.TRUE.equals(options.get("skipEmptyExchange"));
    connection.awaitingEmptyExchange = false;
    return saslReply(false, connection.pending.serverFirst());
  }

  private Document saslContinue(Channel channel, Document command) {
    Connection connection = channel.attr(CONNECTION).get();
    if (connection == null || !(command.get("conversationId") instanceof Number id) || id.intValue() != CONVERSATION_ID) {
      return failed(channel, "saslContinue outside a conversation");
    }
    String payload = payload(command);
    if (payload == null) {
      return failed(channel, "saslContinue without a payload of at most " + ScramSha256Server.MAX_MESSAGE_CHARS
          + " bytes");
    }
    if (connection.awaitingEmptyExchange) {
      // the driver's closing step when the server did not skip it: an empty message, then done
      connection.awaitingEmptyExchange = false;
      if (!payload.isEmpty()) {
        return failed(channel, "a non-empty message after the server's signature");
      }
      authenticated(channel, connection);
      return saslReply(true, "");
    }
    ScramSha256Server.Exchange exchange = connection.pending;
    connection.pending = null;
    if (exchange == null) {
      return failed(channel, "saslContinue outside a conversation");
    }
    String serverFinal;
    try {
      serverFinal = exchange.finish(payload);
    } catch (ScramSha256Server.ScramException e) {
      return failed(channel, e.getMessage());
    }
    if (connection.skipEmptyExchange) {
      authenticated(channel, connection);
      return saslReply(true, serverFinal);
    }
    connection.awaitingEmptyExchange = true;
    return saslReply(false, serverFinal);
  }

  private static void authenticated(Channel channel, Connection connection) {
    connection.authenticated = true;
    // before the answer is written, so the client's next message is held to the listener's usual limits only
    WireServer.authenticated(channel);
  }

  /** The SASL payload as text, or null when absent, not binary, or too long to be a SCRAM message. */
  private static String payload(Document command) {
    Object payload = command.get("payload");
    if (!(payload instanceof BinData binary) || binary.getData().length > ScramSha256Server.MAX_MESSAGE_CHARS) {
      return null;
    }
    return new String(binary.getData(), StandardCharsets.UTF_8);
  }

  private static Document saslReply(boolean done, String payload) {
    return new Document("conversationId", CONVERSATION_ID)
        .append("done", done)
        .append("payload", new BinData(payload.getBytes(StandardCharsets.UTF_8)))
        .append("ok", 1.0);
  }

  /** Ends the attempt: answered like MongoDB, logged with the reason, and the connection closed after the answer. */
  private Document failed(Channel channel, String reason) {
    channel.attr(CONNECTION).set(null);
    ConnectionWarnings.warn(channel, log, "embedded store: failed authentication from {} ({}); closing the connection",
        channel.remoteAddress(), WireServer.printable(reason));
    // only the store's own listener honours this (the library's MongoServer would leave the
    // connection open for another guess): this backend is served by WireServer alone
    WireServer.closeAfterAnswer(channel);
    return error(18, "AuthenticationFailed", "Authentication failed.");
  }

  private Document unauthorized(Channel channel, String command) {
    Connection connection = connection(channel);
    if (!connection.refusalLogged) {
      connection.refusalLogged = true;
      ConnectionWarnings.warn(channel, log, "embedded store: refused {} from unauthenticated connection {} (further"
          + " refusals on it are not logged)", WireServer.printable(command), channel.remoteAddress());
    }
    return error(13, "Unauthorized", "command " + command + " requires authentication");
  }

  private static Document error(int code, String codeName, String message) {
    return new Document("ok", 0.0).append("errmsg", message).append("code", code).append("codeName", codeName);
  }

  private static boolean authenticated(Channel channel) {
    Connection connection = channel.attr(CONNECTION).get();
    return connection != null && connection.authenticated;
  }

  private static Connection connection(Channel channel) {
    Connection connection = channel.attr(CONNECTION).get();
    if (connection == null) {
      connection = new Connection();
      channel.attr(CONNECTION).set(connection);
    }
    return connection;
  }

  /** What one connection has done towards authenticating. */
  private static final class Connection {
    boolean authenticated;
    ScramSha256Server.Exchange pending;
    boolean skipEmptyExchange;
    boolean awaitingEmptyExchange;
    boolean refusalLogged;
  }

  @Override
  public void dropDatabase(String database) {
    delegate.dropDatabase(database);
  }

  @Override
  public void close() {
    delegate.close();
  }

  @Override
  public void closeCursors(List<Long> cursorIds) {
    delegate.closeCursors(cursorIds);
  }

  @Override
  public Clock getClock() {
    return delegate.getClock();
  }

  @Override
  public void enableOplog() {
    delegate.enableOplog();
  }

  @Override
  public void disableOplog() {
    delegate.disableOplog();
  }

  @Override
  public MongoDatabase resolveDatabase(String database) {
    return delegate.resolveDatabase(database);
  }

  @Override
  public MongoBackend version(MongoVersion version) {
    delegate.version(version);
    return this;
  }
}
