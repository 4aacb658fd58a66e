package dev.authservice.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.DefaultJoranConfigurator;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The server's logging, set up in code rather than read from a {@code logback.xml}: logback's XML
 * configuration costs a cold JVM 50–85 ms of parsing and model building on every start, and
 * start-up is timed. Found by logback through {@code META-INF/services}. An operator's own file,
 * named by {@code -Dlogback.configurationFile}, still replaces all of this, if it is there: one
 * that is not would leave logback to its basic set-up, everything at DEBUG.
 */
public final class LogConfiguration extends ContextAwareBase implements Configurator {
  /** The root level, from the environment (or a system property of that name); INFO if unset. */
  static final String LEVEL_VARIABLE = "AUTH_LOG_LEVEL";
  static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level [%thread] %logger{24} - %msg%n";

  /**
   * Never lower than these: at DEBUG, gRPC's and Netty's frame logs would print authorization
   * headers; at INFO, the driver prints the client's application name, which holds the embedded
   * store's connection mark (embedded-store/README.md); the embedded store warns once per
   * non-unique index it cannot build, which MongoStorage says once.
   */
  static final Map<String, Level> QUIETER = Map.of(
      "io.grpc", Level.WARN,
      "io.grpc.netty", Level.WARN,
      "org.mongodb.driver", Level.WARN,
      "de.bwaldvogel", Level.WARN,
      "de.bwaldvogel.mongo.backend.AbstractMongoDatabase", Level.ERROR);

  /** logback's own setting for a configuration file of the operator's. */
  static final String OPERATOR_FILE_PROPERTY = "logback.configurationFile";

  public LogConfiguration() {}

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    String operatorFile = System.getProperty(OPERATOR_FILE_PROPERTY);
    if (operatorFile != null) {
      if (resolves(context)) {
        return ExecutionStatus.INVOKE_NEXT_IF_ANY;   // the operator's own file, read by logback's Joran
      }
      // logback would fall through to its basic set-up, everything at DEBUG on stdout: the driver's
      // commands, the connection mark, frame logs
      System.err.println("auth-server: -D" + OPERATOR_FILE_PROPERTY + "=" + operatorFile + " names no file, URL or"
          + " class path resource; logging as built in");
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    QUIETER.forEach((name, level) -> context.getLogger(name).setLevel(level));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(rootLevel(Optional.ofNullable(System.getProperty(LEVEL_VARIABLE))
        .or(() -> Optional.ofNullable(System.getenv(LEVEL_VARIABLE)))));
    root.addAppender(stderr);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /**
   * Whether logback finds a file to read where it looks (its setting, as a URL, a class path
   * resource or a file), by its own search; a {@code file:} URL only if that file is there.
   */
  static boolean resolves(LoggerContext context) {
    DefaultJoranConfigurator joran = new DefaultJoranConfigurator();
    joran.setContext(context);
    URL url = joran.findURLOfDefaultConfigurationFile(false);
    if (url == null || !"file".equals(url.getProtocol())) {
      return url != null;
    }
    try {
      // a file: URL to nothing would leave logback with no appender at all
      return Files.isRegularFile(Path.of(url.toURI()));
    } catch (URISyntaxException | IllegalArgumentException e) {
      return false;
    }
  }

  /** The named level; INFO, with a line on standard error, for a name that is none. */
  static Level rootLevel(Optional<String> name) {
    if (name.isEmpty() || name.get().isBlank()) {
      return Level.INFO;
    }
    Level level = Level.toLevel(name.get().trim(), null);
    if (level == null) {
      System.err.println("auth-server: " + LEVEL_VARIABLE + "=" + name.get() + " is not a log level (TRACE, DEBUG,"
          + " INFO, WARN, ERROR or OFF); logging at INFO");
      return Level.INFO;
    }
    return level;
  }
}
