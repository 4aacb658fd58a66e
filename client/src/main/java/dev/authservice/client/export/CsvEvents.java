package dev.authservice.client.export;

import dev.authservice.proto.auth.v1.AuditEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/** Audit events as a flat RFC 4180 table, one row each, with a header row. */
public final class CsvEvents implements AutoCloseable {
  public static final List<String> COLUMNS = List.of("time", "id", "type", "outcome", "username", "subject",
      "token_id", "client_ip", "user_agent", "rpc_method", "reason", "instance", "actor", "peer_identity", "count",
      "first_time", "last_time", "chain", "seq", "hash", "alert_rule", "alert_severity", "alert_summary");

  private final CSVPrinter printer;

  public CsvEvents(Appendable out) {
    try {
      this.printer = CSVFormat.RFC4180.builder().setHeader(COLUMNS.toArray(String[]::new)).get().print(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void write(AuditEvent e) {
    try {
      printer.printRecord(instant(e.getTime()), e.getId(), e.getType().name(), e.getOutcome().name(),
          e.getUsername(), e.getSubject(), e.getTokenId(), e.getClientIp(), e.getUserAgent(), e.getRpcMethod(),
          e.getReason(), e.getInstance(), e.getActor(), e.getPeerIdentity(), e.getCount(), instant(e.getFirstTime()),
          instant(e.getLastTime()), e.getChain(), e.getSeq(), e.getHash(), e.getAlert().getRule(),
          e.getAlert().getSeverity(), e.getAlert().getSummary());
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  public void flush() {
    try {
      printer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String instant(com.google.protobuf.Timestamp ts) {
    return Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos()).toString();
  }

  @Override
  public void close() {
    flush();
  }
}
