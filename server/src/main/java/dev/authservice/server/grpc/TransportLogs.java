package dev.authservice.server.grpc;

import dev.authservice.server.core.ThrottledLines;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * grpc-java logs through java.util.logging, and logs a client's oversized or malformed message
 * as a warning with a stack trace. Here its records go to the service's own log instead, and a
 * failure the client caused (a record carrying a gRPC status) becomes one line: what was
 * refused and why, never a stack trace, since it is not the server's fault.
 */
public final class TransportLogs {
  private static final Logger log = LoggerFactory.getLogger(TransportLogs.class);

  private TransportLogs() {}

  /** Routes java.util.logging to SLF4J, once per JVM (java.util.logging is global). */
  public static synchronized void install() {
    java.util.logging.Logger root = LogManager.getLogManager().getLogger("");
    for (Handler handler : root.getHandlers()) {
      if (handler instanceof ClientErrorsInOneLine) {
        return;
      }
      root.removeHandler(handler);
    }
    root.addHandler(new ClientErrorsInOneLine());
  }

  private static final class ClientErrorsInOneLine extends Handler {
    private final SLF4JBridgeHandler bridge = new SLF4JBridgeHandler();
    /** Any client can send frames the transport refuses: at most this many lines a minute of them. */
    private final ThrottledLines lines = new ThrottledLines(java.time.Clock.systemUTC(),
        GrpcServices.REFUSED_CALL_LINES_PER_MINUTE, java.time.Duration.ofMinutes(1));

    @Override
    public void publish(LogRecord record) {
      Status status = clientCaused(record) ? statusOf(record.getThrown()) : null;
      if (status == null) {
        bridge.publish(record);
        return;
      }
      if (record.getLevel().intValue() >= Level.INFO.intValue()) {
        lines.admit().ifPresent(more -> log.info("refused a call from a client: {}{}{}", status.getCode(),
            status.getDescription() == null ? "" : ": " + oneLine(status.getDescription()), ThrottledLines.suffix(more)));
      }
    }

    /**
     * Only the transport's own report of a message it could not take from a client (too large,
     * or not a gRPC frame); any other record, a server fault among them, keeps its stack trace.
     */
    private static boolean clientCaused(LogRecord record) {
      String logger = record.getLoggerName() == null ? "" : record.getLoggerName();
      return logger.endsWith("NettyServerStream$TransportState") || logger.endsWith("NettyServerStream")
          || "deframeFailed".equals(record.getSourceMethodName());
    }

    private static Status statusOf(Throwable thrown) {
      if (thrown instanceof StatusRuntimeException e) {
        return e.getStatus();
      }
      if (thrown instanceof StatusException e) {
        return e.getStatus();
      }
      return null;
    }

    private static String oneLine(String text) {
      // a description can quote what the client sent: no control characters into the log
      String flat = text.replaceAll("[\\p{Cc}\\p{Cf}]+", " ");
      return flat.length() <= 300 ? flat : flat.substring(0, 300) + "…";
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
