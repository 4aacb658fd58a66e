package dev.authservice.server;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import dev.authservice.proto.auth.v1.AuthServiceGrpc;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.LoginResponse;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import dev.authservice.server.password.HashParams;
import dev.authservice.embedded.EmbeddedStore;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * A real server on a loopback port, backed by a MongoDB-wire store the test can also read and
 * write directly: a real MongoDB when {@code MONGODB_URI} is set (one fresh database per
 * server), else the embedded store (mongo-java-server with its H2 backend, the class the
 * product itself uses) in a temporary directory, started in this process and reached with the
 * credential it made (a URI carrying it stands in for MONGODB_URI). Callers use the generated stubs.
 */
public final class TestServer implements AutoCloseable {
  public static final String ADMIN = "admin";
  public static final String ADMIN_PASSWORD = "admin-Password-1";
  /** Cheap Argon2id parameters: the tests check behaviour, not cost. */
  public static final HashParams TEST_HASH = new HashParams(1024, 1, 1);

  private final TestStore store;
  private final ServerConfig config;
  private AuthServer server;
  private ManagedChannel channel;

  private TestServer(TestStore store, ServerConfig config, Clock clock) {
    this.store = store;
    this.config = config;
    try {
      this.server = AuthServer.start(config, clock);
    } catch (RuntimeException e) {
      store.release();
      throw e;
    }
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  /** A server on a store of its own with the bootstrap admin. */
  public static TestServer start() {
    return start(UnaryOperator.identity());
  }

  public static TestServer start(UnaryOperator<ServerConfig.Builder> customize) {
    return start(customize, Clock.systemUTC());
  }

  public static TestServer start(UnaryOperator<ServerConfig.Builder> customize, Clock clock) {
    TestStore store = TestStore.create();
    return onStore(store, customize, clock);
  }

  /** Another server on the same store as this one (a second instance, or a restart). */
  public TestServer sibling(UnaryOperator<ServerConfig.Builder> customize, Clock clock) {
    String instance = "sibling-" + UUID.randomUUID().toString().substring(0, 8);
    // each process has a data directory of its own (its audit spool); the store is shared. Not
    // directly in the first one's: a new data directory beside a data directory's files is refused
    // as one that moved (StorageBootstrap.requireNoDataBeside)
    return new TestServer(store.shared(), customize.apply(config.toBuilder().port(0).instanceId(instance)
        .dataDir(store.dataDir().resolve("siblings").resolve(instance))).build(), clock);
  }

  static TestServer onStore(TestStore store, UnaryOperator<ServerConfig.Builder> customize, Clock clock) {
    ServerConfig.Builder builder = ServerConfig.builder(store.dataDir())
        .mongoUri(Optional.of(store.uri()))
        .database(store.databaseName())
        .hashParams(TEST_HASH)
        .bootstrapAdmin(Optional.of(ADMIN), Optional.of(ADMIN_PASSWORD))
        .instanceId("test-" + UUID.randomUUID().toString().substring(0, 8));
    return new TestServer(store, customize.apply(builder).build(), clock);
  }

  public ServerConfig config() {
    return config;
  }

  public int port() {
    return server.port();
  }

  /** The public HTTP listener's port; the test must have turned it on. */
  public int httpPort() {
    return server.httpPort().orElseThrow(() -> new IllegalStateException("the public HTTP listener is off"));
  }

  /** The admin HTTP listener's port; the test must have turned it on. */
  public int adminPort() {
    return server.adminPort().orElseThrow(() -> new IllegalStateException("the admin HTTP listener is off"));
  }

  public ManagedChannel channel() {
    return channel;
  }

  public MongoDatabase database() {
    return store.database();
  }

  TestStore store() {
    return store;
  }

  public AuthServiceGrpc.AuthServiceBlockingStub auth() {
    return AuthServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  public UserAdminServiceGrpc.UserAdminServiceBlockingStub userAdmin() {
    return UserAdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  public LoginResponse login(String username, String password) {
    return auth().login(LoginRequest.newBuilder().setUsername(username).setPassword(password).build());
  }

  public String adminToken() {
    return login(ADMIN, ADMIN_PASSWORD).getAccessToken();
  }

  public static <S extends AbstractStub<S>> S withBearer(S stub, String token) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Stops only the server, keeping the store for a restart. */
  public void stopServer() {
    channel.shutdownNow();
    server.close();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
    store.release();
  }

  /** The store behind one or more test servers; closed when the last one closes. */
  static final class TestStore {
    private final Path dataDir;
    private Optional<EmbeddedStore> embedded;
    private final String uri;
    private final String databaseName;
    private final MongoClient client;
    private int users;

    private TestStore(Path dataDir, Optional<EmbeddedStore> embedded, String uri, String databaseName) {
      this.dataDir = dataDir;
      this.embedded = embedded;
      this.uri = uri;
      this.databaseName = databaseName;
      this.client = MongoClients.create(uri);
    }

    static TestStore create() {
      Path dir;
      try {
        dir = Files.createTempDirectory("auth-test-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      String external = System.getenv("MONGODB_URI");
      String db = "auth_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
      TestStore store = external != null && !external.isBlank()
          ? new TestStore(dir, Optional.empty(), external, db)
          : startEmbedded(dir, db);
      store.users = 1;
      return store;
    }

    private static TestStore startEmbedded(Path dir, String db) {
      EmbeddedStore mongo = EmbeddedStore.start(dir);
      // the store takes only its per-start credential; this process holds it, as the server would
      return new TestStore(dir, Optional.of(mongo), mongo.uriWithCredential(), db);
    }

    /** Whether the test can stop and restart the store (the embedded one). */
    boolean restartable() {
      return embedded.isPresent();
    }

    /** Stops the embedded store, as an outage would. */
    synchronized void stopStore() {
      embedded.orElseThrow().close();
    }

    /** Starts the embedded store again on the same port with the same data and credential. */
    synchronized void restartStore() {
      EmbeddedStore stopped = embedded.orElseThrow();
      embedded = Optional.of(EmbeddedStore.start(dataDir, stopped.port(), stopped.credential()));
    }

    synchronized TestStore shared() {
      users++;
      return this;
    }

    Path dataDir() {
      return dataDir;
    }

    String uri() {
      return uri;
    }

    String databaseName() {
      return databaseName;
    }

    MongoDatabase database() {
      return client.getDatabase(databaseName);
    }

    synchronized void release() {
      if (--users > 0) {
        return;
      }
      if (embedded.isEmpty()) {
        client.getDatabase(databaseName).drop();
      }
      client.close();
      embedded.ifPresent(EmbeddedStore::close);
      deleteRecursively(dataDir);
    }

    private static void deleteRecursively(Path dir) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // a leftover temp directory is not worth failing a test for
      }
    }
  }
}
