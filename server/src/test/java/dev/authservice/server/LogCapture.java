package dev.authservice.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What one class of the server logs while a test runs, at INFO and above whatever the log level
 * outside: for a test that waits for the server to say it reached a state it shows no other way.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger;
  private final Level levelBefore;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Logger logger, Level level) {
    this.logger = logger;
    levelBefore = logger.getLevel();
    logger.setLevel(level);
    appender.start();
    logger.addAppender(appender);
  }

  public static LogCapture of(Class<?> loggingClass) {
    return new LogCapture((Logger) LoggerFactory.getLogger(loggingClass), Level.INFO);
  }

  /** Everything the server's own classes log, down to DEBUG: for a test that something is never logged. */
  public static LogCapture server() {
    return new LogCapture((Logger) LoggerFactory.getLogger("dev.authservice"), Level.DEBUG);
  }

  /** The MongoDB driver's log of each command it sends ("Command \"find\" started ..."), at DEBUG. */
  public static LogCapture driverCommands() {
    return new LogCapture((Logger) LoggerFactory.getLogger("org.mongodb.driver.protocol.command"), Level.DEBUG);
  }

  /** Whether a message logged so far contains {@code text}. */
  public boolean contains(String text) {
    List<ILoggingEvent> events;
    synchronized (appender) {
      events = List.copyOf(appender.list);
    }
    return events.stream().anyMatch(e -> e.getFormattedMessage().contains(text)
        || (e.getThrowableProxy() != null && String.valueOf(e.getThrowableProxy().getMessage()).contains(text)));
  }

  /** How many messages logged so far contain {@code text}. */
  public long count(String text) {
    List<ILoggingEvent> events;
    synchronized (appender) {
      events = List.copyOf(appender.list);
    }
    return events.stream().filter(e -> e.getFormattedMessage().contains(text)).count();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(levelBefore);
  }
}
