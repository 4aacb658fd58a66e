package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class LogConfigurationTest {

  @Test
  void logbackIsSetUpByTheServersConfigurationNotAFile() {
    // the context the whole test JVM logs through: found through META-INF/services, as in the server
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    assertEquals(Level.WARN, context.getLogger("io.grpc.netty").getLevel(),
        "frame logs would print authorization headers");
    assertEquals(Level.WARN, context.getLogger("org.mongodb.driver").getLevel(),
        "the driver at INFO prints the embedded store's connection mark");
    ConsoleAppender<?> stderr = assertInstanceOf(ConsoleAppender.class,
        context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR"));
    assertEquals("System.err", stderr.getTarget());
  }

  @Test
  void aFreshContextGetsTheAppenderThePatternAndTheQuieterLoggers() {
    LoggerContext context = new LoggerContext();
    LogConfiguration configuration = new LogConfiguration();
    configuration.setContext(context);
    assertEquals(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, configuration.configure(context),
        "no logback.xml is looked for after it");
    ConsoleAppender<?> stderr = (ConsoleAppender<?>) context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
    assertNotNull(stderr);
    assertTrue(stderr.isStarted());
    assertEquals(LogConfiguration.PATTERN, ((PatternLayoutEncoder) stderr.getEncoder()).getPattern());
    LogConfiguration.QUIETER.forEach((name, level) -> assertEquals(level, context.getLogger(name).getLevel(), name));
    context.stop();
  }

  @TempDir Path dir;

  @Test
  void anOperatorsOwnFileStillReplacesIt() throws Exception {
    Path file = Files.writeString(dir.resolve("logback.xml"), "<configuration/>");
    for (String named : List.of(file.toString(), file.toUri().toString())) {
      LoggerContext context = new LoggerContext();
      ExecutionStatus status = withProperty(LogConfiguration.OPERATOR_FILE_PROPERTY, named, () -> configure(context));
      assertEquals(ExecutionStatus.INVOKE_NEXT_IF_ANY, status, named);
      assertNull(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR"), "nothing of its own set up");
    }
  }

  @Test
  void anOperatorsFileThatIsNotThereLeavesTheBuiltInSetUpNotLogbacksDebugDefault() {
    // logback would fall through to its basic set-up: everything at DEBUG on stdout
    for (String named : List.of(dir.resolve("missing.xml").toString(), dir.resolve("missing.xml").toUri().toString(),
        "no-such-resource.xml")) {
      LoggerContext context = new LoggerContext();
      ExecutionStatus status = withProperty(LogConfiguration.OPERATOR_FILE_PROPERTY, named, () -> configure(context));
      assertEquals(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, status, named);
      assertEquals(Level.WARN, context.getLogger("org.mongodb.driver").getLevel(), named);
      assertEquals(Level.INFO, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel(), named);
    }
  }

  @Test
  void theRootLevelComesFromAuthLogLevel() {
    LoggerContext context = new LoggerContext();
    withProperty(LogConfiguration.LEVEL_VARIABLE, "warn", () -> configure(context));
    assertEquals(Level.WARN, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
    assertEquals(Level.ERROR, context.getLogger("de.bwaldvogel.mongo.backend.AbstractMongoDatabase").getLevel(),
        "the quieter loggers keep their own levels");
  }

  private static ExecutionStatus configure(LoggerContext context) {
    LogConfiguration configuration = new LogConfiguration();
    configuration.setContext(context);
    return configuration.configure(context);
  }

  private static <T> T withProperty(String name, String value, Supplier<T> action) {
    String before = System.getProperty(name);
    System.setProperty(name, value);
    try {
      return action.get();
    } finally {
      if (before == null) {
        System.clearProperty(name);
      } else {
        System.setProperty(name, before);
      }
    }
  }

  @Test
  void theRootLevelIsNamedByAuthLogLevelAndANameThatIsNoLevelMeansInfo() {
    assertEquals(Level.INFO, LogConfiguration.rootLevel(Optional.empty()));
    assertEquals(Level.INFO, LogConfiguration.rootLevel(Optional.of(" ")));
    assertEquals(Level.DEBUG, LogConfiguration.rootLevel(Optional.of("debug")));
    assertEquals(Level.WARN, LogConfiguration.rootLevel(Optional.of(" WARN ")));
    assertEquals(Level.OFF, LogConfiguration.rootLevel(Optional.of("off")));
    // logback's own parsing turns an unknown name into DEBUG, which would print far more than asked
    assertEquals(Level.INFO, LogConfiguration.rootLevel(Optional.of("verbose")));
  }
}
