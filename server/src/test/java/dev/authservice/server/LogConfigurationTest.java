package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import java.util.Optional;
import org.junit.jupiter.api.Test;
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

  @Test
  void anOperatorsOwnFileStillReplacesIt() {
    LoggerContext context = new LoggerContext();
    LogConfiguration configuration = new LogConfiguration();
    configuration.setContext(context);
    String before = System.getProperty("logback.configurationFile");
    System.setProperty("logback.configurationFile", "/etc/auth/logback.xml");
    try {
      assertEquals(ExecutionStatus.INVOKE_NEXT_IF_ANY, configuration.configure(context));
      assertEquals(null, context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR"),
          "nothing of its own set up");
    } finally {
      if (before == null) {
        System.clearProperty("logback.configurationFile");
      } else {
        System.setProperty("logback.configurationFile", before);
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
