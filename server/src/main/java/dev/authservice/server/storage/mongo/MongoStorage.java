package dev.authservice.server.storage.mongo;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoException;
import com.mongodb.ReadPreference;
import com.mongodb.WriteConcern;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.IndexModel;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import dev.authservice.server.audit.chain.ChainReads;
import dev.authservice.server.audit.read.EventReads;
import dev.authservice.server.audit.write.EventWrites;
import dev.authservice.server.audit.chain.CheckpointStore;
import dev.authservice.server.review.ReviewLeases;
import dev.authservice.server.revocation.RevocationStore;
import dev.authservice.server.session.RefreshTokenStore;
import dev.authservice.server.throttle.AddressAttemptStore;
import dev.authservice.server.throttle.FailureStore;
import dev.authservice.server.keys.KeyEncryption;
import dev.authservice.server.keys.SigningKeyStore;
import dev.authservice.server.user.UserStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.bson.UuidRepresentation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's MongoDB, reached through the driver at a connection string: a real deployment
 * from {@code MONGODB_URI}, or whatever MongoDB-wire store the bootstrap started (it says how to
 * reach it, with which credential, and what makes a write durable there). Owns the client,
 * creates the indexes, and hands out the typed stores.
 */
public final class MongoStorage implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MongoStorage.class);
  public static final String PAGE_TOKEN_SECRET = "page_tokens";
  /**
   * Type, outcome, time and _id, then count: QueryAudit pages walk it in (time, _id) order (the
   * trailing count, after the unique _id, changes no order), and summaries by type and outcome are
   * answered from its entries alone (a covered read, MongoAuditStore.summarize).
   */
  static final String TYPE_OUTCOME_TIME_COUNT_INDEX = "type_outcome_time_count";
  private static final String LEGACY_AUDIT_TTL_INDEX = "time_retention_ttl";
  /** Replaced by type_outcome_time, which serves the same queries and outcome ones too, at no extra write. */
  private static final String LEGACY_AUDIT_TYPE_INDEX = "type_time";
  /** Replaced by type_outcome_time_count, the same keys and count: one index for both, not two to write. */
  private static final String LEGACY_AUDIT_TYPE_OUTCOME_INDEX = "type_outcome_time";
  static final String AUDIT_SIGNING_KEYS = "audit_signing_keys";
  /** Acknowledged once a majority of the replica set has it in its journal. */
  static final WriteConcern DURABLE = WriteConcern.MAJORITY.withJournal(true);

  private final Connection connection;
  private final MongoClient client;
  private final MongoDatabase database;
  private final WriteBarrier barrier;

  private MongoStorage(Connection connection, MongoClient client, MongoDatabase database) {
    this.connection = connection;
    this.client = client;
    this.database = database;
    this.barrier = connection.writeBarrier();
  }

  /**
   * Where the store is and how to use it: its connection string; a credential to present besides
   * it (kept out of the string, so the string can be logged); what to run after each write
   * before it counts as durable; how to name it in the log; and what to close after the client
   * (the process that serves the store, when this one started it).
   */
  public record Connection(String uri, Optional<MongoCredential> credential, WriteBarrier writeBarrier,
      String description, AutoCloseable closedAfterClient) {
    /** A deployment at this URI: its own credential (if any) inside, durable by its write concern. */
    public static Connection to(String uri) {
      return new Connection(uri, Optional.empty(), WriteBarrier.NONE, "MongoDB at " + redactedHosts(uri), () -> {});
    }

    public Connection withCredential(MongoCredential credential) {
      return new Connection(uri, Optional.of(credential), writeBarrier, description, closedAfterClient);
    }

    public Connection withWriteBarrier(WriteBarrier barrier) {
      return new Connection(uri, credential, barrier, description, closedAfterClient);
    }

    public Connection describedAs(String name) {
      return new Connection(uri, credential, writeBarrier, name, closedAfterClient);
    }

    public Connection closing(AutoCloseable resource) {
      return new Connection(uri, credential, writeBarrier, description, resource);
    }

    /** The description only: a URI may carry a password, and the credential is one. */
    @Override
    public String toString() {
      return description;
    }
  }

  /** Connects, waits until the store answers, and creates the indexes; closes the connection's resource if it fails. */
  public static MongoStorage open(Connection connection, String databaseName, Duration timeout,
      String applicationName) {
    MongoClientSettings settings;
    try {
      ConnectionString uri = new ConnectionString(connection.uri());
      settings = clientSettings(uri, connection.credential(), timeout, applicationName);
      overriddenUriOptions(uri).forEach(option -> log.warn("{}", option));
    } catch (RuntimeException e) {
      closeQuietly(connection.closedAfterClient(), e);
      throw e;
    }
    MongoClient client;
    try {
      client = MongoClients.create(settings);
    } catch (RuntimeException e) {
      closeQuietly(connection.closedAfterClient(), e);
      throw e;
    }
    MongoStorage storage = new MongoStorage(connection, client, client.getDatabase(databaseName));
    try {
      storage.awaitReachable();
      storage.createIndexes();
    } catch (RuntimeException e) {
      storage.close();
      throw e;
    }
    return storage;
  }

  /**
   * The driver's settings: timeouts that a URI may override (fail fast instead of the driver's
   * 30 s), then what no URI overrides, because every collection here is the audit trail or
   * security state: writes acknowledged only once a majority of the replica set has journaled
   * them (an answered call's event, a revocation, a rotated refresh token must survive a
   * failover), and reads from the primary (a stale secondary would miss a revocation, a used
   * refresh token or a login failure). A standalone MongoDB and the embedded store take both as
   * they are and ignore what does not apply to them.
   */
  static MongoClientSettings clientSettings(ConnectionString uri, Optional<MongoCredential> credential, Duration timeout,
      String applicationName) {
    MongoClientSettings.Builder settings = MongoClientSettings.builder()
        .applicationName(applicationName)
        .uuidRepresentation(UuidRepresentation.STANDARD)
        .applyToClusterSettings(b -> b.serverSelectionTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS))
        .applyToSocketSettings(b -> b.connectTimeout((int) timeout.toMillis(), TimeUnit.MILLISECONDS))
        .applyConnectionString(uri)
        .writeConcern(DURABLE)
        .readPreference(ReadPreference.primary());
    // a credential given beside the connection string, never into it
    credential.ifPresent(settings::credential);
    return settings.build();
  }

  /** What the connection string asks for that {@link #clientSettings} overrides, as warnings for the log. */
  static List<String> overriddenUriOptions(ConnectionString uri) {
    List<String> overridden = new ArrayList<>();
    if (uri.getWriteConcern() != null && !uri.getWriteConcern().equals(DURABLE)) {
      overridden.add("MONGODB_URI asks for write concern " + uri.getWriteConcern().asDocument().toJson()
          + "; the server writes with w: majority, j: true regardless (the audit trail's durability needs it)");
    }
    if (uri.getReadPreference() != null && !uri.getReadPreference().equals(ReadPreference.primary())) {
      overridden.add("MONGODB_URI asks for read preference " + uri.getReadPreference().getName()
          + "; the server reads from the primary regardless (security state must not be read stale)");
    }
    return overridden;
  }

  public String description() {
    return connection.description();
  }

  public UserStore users() {
    return StoreOutages.guard(UserStore.class, new MongoUserStore(collection(MongoUserStore.COLLECTION), barrier));
  }

  /** The trail's three ports (writing, reading, chains), over one adapter. */
  public record AuditPorts(EventWrites writes, EventReads reads, ChainReads chains) {}

  public AuditPorts auditPorts() {
    MongoAuditStore store = auditEvents();
    return new AuditPorts(StoreOutages.guard(EventWrites.class, store), StoreOutages.guard(EventReads.class, store),
        StoreOutages.guard(ChainReads.class, store));
  }

  /** The trail's adapter itself, unguarded: for tools and tests that write and read it directly. */
  public MongoAuditStore auditEvents() {
    return new MongoAuditStore(Optional.of(database), collection(MongoAuditStore.COLLECTION), barrier);
  }

  public SigningKeyStore signingKeys(KeyEncryption encryption) {
    return StoreOutages.guard(SigningKeyStore.class, new MongoSigningKeyStore(collection(MongoSigningKeyStore.COLLECTION), encryption, barrier));
  }

  public RevocationStore revocations() {
    return StoreOutages.guard(RevocationStore.class, new MongoRevocationStore(collection(MongoRevocationStore.COLLECTION),
        collection(MongoRevocationStore.SEQUENCES), barrier));
  }

  public RefreshTokenStore refreshTokens() {
    return StoreOutages.guard(RefreshTokenStore.class, new MongoRefreshTokenStore(collection(MongoRefreshTokenStore.COLLECTION), barrier));
  }

  public FailureStore loginFailures() {
    return StoreOutages.guard(FailureStore.class, new MongoFailureStore(collection(MongoFailureStore.COLLECTION), barrier));
  }

  public AddressAttemptStore loginAddressAttempts() {
    return StoreOutages.guard(AddressAttemptStore.class, new MongoAddressAttemptStore(collection(MongoAddressAttemptStore.COLLECTION)));
  }

  public byte[] sharedSecret(String name) {
    return new MongoServerSecrets(collection(MongoServerSecrets.COLLECTION), barrier)
        .getOrCreate(name, 32);
  }

  /**
   * Earlier versions expired audit events with a TTL index on {@code time}; retention now removes
   * whole prefixes of chains with a signed purge checkpoint (a TTL index would delete events no
   * checkpoint accounts for), so that index is dropped where it exists. So are {@code type_time}
   * and {@code type_outcome_time}, which {@code type_outcome_time_count} replaced.
   */
  private void dropLegacyAuditIndexes() {
    MongoCollection<Document> events = collection(MongoAuditStore.COLLECTION);
    for (Document index : events.listIndexes()) {
      String name = index.getString("name");
      if (LEGACY_AUDIT_TTL_INDEX.equals(name) || LEGACY_AUDIT_TYPE_INDEX.equals(name)
          || LEGACY_AUDIT_TYPE_OUTCOME_INDEX.equals(name)) {
        events.dropIndex(name);
      }
    }
  }

  public CheckpointStore auditCheckpoints() {
    return StoreOutages.guard(CheckpointStore.class, new MongoCheckpointStore(collection(MongoCheckpointStore.COLLECTION),
        collection(MongoCheckpointStore.CHAINS), barrier));
  }

  public ReviewLeases reviewLeases() {
    return StoreOutages.guard(ReviewLeases.class, new MongoReviewLeases(collection(MongoReviewLeases.COLLECTION), barrier));
  }

  /** The audit signing keys: stored like the token keys, in a collection of their own. */
  public SigningKeyStore auditSigningKeys(KeyEncryption encryption) {
    return StoreOutages.guard(SigningKeyStore.class, new MongoSigningKeyStore(collection(AUDIT_SIGNING_KEYS), encryption, barrier));
  }

  /** Whether the store answers a ping right now. */
  public boolean ping() {
    try {
      database.runCommand(new Document("ping", 1));
      return true;
    } catch (MongoException e) {
      return false;
    }
  }

  private MongoCollection<Document> collection(String name) {
    return database.getCollection(name);
  }

  private void awaitReachable() {
    int attempt = 0;
    while (true) {
      try {
        database.runCommand(new Document("ping", 1));
        return;
      } catch (MongoException e) {
        attempt++;
        if (attempt >= 30) {
          throw new IllegalStateException("MongoDB did not answer after " + attempt + " attempts: "
              + connection.description(), e);
        }
        log.warn("waiting for MongoDB ({}): {}", connection.description(), e.getClass().getSimpleName());
      }
    }
  }

  /**
   * One {@code createIndexes} command per collection, naming all its indexes: a round trip each
   * (10, not 19, at every start), and a no-op on the store for the indexes that already exist.
   */
  private void createIndexes() {
    collection(MongoUserStore.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("username"), new IndexOptions().unique(true).name("username_unique"))));
    collection(MongoSigningKeyStore.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("generation"), new IndexOptions().unique(true).name("generation_unique"))));
    // One index per selective QueryAudit filter, each ending in the sort order (time, _id), so
    // that a filtered, paged query is an index range scan that stops at the page size. Type and
    // outcome share one index: queries on either name both keys (MongoAuditStore.pageParts), so
    // one walk per (type, outcome) pair, merged in time order, finds rare failures and alerts
    // without reading the successes; no filter at all walks the time index.
    List<IndexModel> events = new ArrayList<>();
    events.add(new IndexModel(Indexes.descending("time", "_id"), new IndexOptions().name("time")));
    for (String field : new String[] {"username", "client_ip", "token_id", "trace_id"}) {
      events.add(new IndexModel(Indexes.compoundIndex(Indexes.ascending(field), Indexes.descending("time", "_id")),
          new IndexOptions().name(field + "_time")));
    }
    // and count last, so that a summary by type and outcome reads the index alone (every event stores its count)
    events.add(new IndexModel(Indexes.compoundIndex(Indexes.ascending("type", "outcome"), Indexes.descending("time", "_id"),
        Indexes.ascending("count")), new IndexOptions().name(TYPE_OUTCOME_TIME_COUNT_INDEX)));
    // every chained event has one place; sparse, since events from before chaining have none
    events.add(new IndexModel(Indexes.ascending("chain", "seq"), new IndexOptions().unique(true).sparse(true)
        .name("chain_seq_unique")));
    collection(MongoAuditStore.COLLECTION).createIndexes(events);
    collection(MongoCheckpointStore.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("chain", "seq"), new IndexOptions().name("chain_seq")),
        // ListAuditCheckpoints' order, oldest first, and its page position
        new IndexModel(Indexes.ascending("time", "_id"), new IndexOptions().name("time"))));
    collection(AUDIT_SIGNING_KEYS).createIndexes(List.of(
        new IndexModel(Indexes.ascending("generation"), new IndexOptions().unique(true).name("generation_unique"))));
    dropLegacyAuditIndexes();
    // Expiry: TTL indexes where MongoDB enforces them; the server also deletes expired
    // documents itself, because the embedded store ignores TTL indexes.
    collection(MongoRevocationStore.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("recorded_at"), new IndexOptions().name("recorded_at")),
        new IndexModel(Indexes.ascending("seq"), new IndexOptions().name("seq")),
        new IndexModel(Indexes.ascending("expires_at"), ttl("expires_at_ttl"))));
    collection(MongoRefreshTokenStore.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("subject", "expires_at"), new IndexOptions().name("subject")),
        new IndexModel(Indexes.ascending("expires_at"), ttl("expires_at_ttl"))));
    collection(MongoFailureStore.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("forget_at"), ttl("forget_at_ttl"))));
    collection(MongoAddressAttemptStore.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("expires_at"), ttl("expires_at_ttl"))));
    // a finished scheduled review keeps its claim for two days (one small document a day); an
    // expired lease or claim is one anybody may take over, so removing it changes nothing
    collection(MongoReviewLeases.COLLECTION).createIndexes(List.of(
        new IndexModel(Indexes.ascending("expires_at"), ttl("expires_at_ttl"))));
  }

  /** A TTL index: documents go once the time in the field has passed. */
  private static IndexOptions ttl(String name) {
    return new IndexOptions().expireAfter(0L, TimeUnit.SECONDS).name(name);
  }

  private static String redactedHosts(String uri) {
    ConnectionString cs = new ConnectionString(uri);
    return String.join(",", cs.getHosts());
  }

  /** Closes the client, then the connection's resource. */
  @Override
  public void close() {
    try {
      client.close();
    } finally {
      closeQuietly(connection.closedAfterClient(), null);
    }
  }

  private static void closeQuietly(AutoCloseable resource, RuntimeException failure) {
    try {
      resource.close();
    } catch (Exception e) {
      if (failure != null) {
        failure.addSuppressed(e);
      } else {
        log.warn("could not close the store's resource: {}", e.toString());
      }
    }
  }
}
