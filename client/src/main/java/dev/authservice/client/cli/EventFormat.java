package dev.authservice.client.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.authservice.proto.auth.v1.AuditEvent;
import java.io.PrintWriter;
import java.time.Instant;

/** Prints audit events as an aligned table or as JSON lines, with what the caller chose escaped (see {@link TerminalText}). */
final class EventFormat {
  private static final JsonFormat.Printer JSON = JsonFormat.printer().omittingInsignificantWhitespace();
  static final String TABLE_HEADER = String.format("%-24s %-15s %-7s %-20s %-15s %-36s %s",
      "TIME", "TYPE", "OUTCOME", "USERNAME", "CLIENT_IP", "METHOD", "REASON");

  private EventFormat() {}

  static String tableRow(AuditEvent e) {
    return String.format("%-24s %-15s %-7s %-20s %-15s %-36s %s",
        instant(e.getTime()), e.getType().name().replace("AUDIT_EVENT_TYPE_", ""),
        e.getOutcome().name().replace("AUDIT_OUTCOME_", ""), TerminalText.safe(e.getUsername()),
        TerminalText.safe(e.getClientIp()), TerminalText.safe(e.getRpcMethod()), TerminalText.safe(e.getReason()))
        .stripTrailing();
  }

  static String json(MessageOrBuilder message) {
    try {
      return TerminalText.safeJson(JSON.print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static void print(PrintWriter out, Iterable<AuditEvent> events, boolean jsonLines) {
    if (!jsonLines) {
      out.println(TABLE_HEADER);
    }
    for (AuditEvent e : events) {
      out.println(jsonLines ? json(e) : tableRow(e));
    }
    out.flush();
  }

  static String instant(Timestamp ts) {
    return Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos()).toString();
  }
}
