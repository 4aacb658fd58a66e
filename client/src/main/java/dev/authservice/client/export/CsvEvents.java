package dev.authservice.client.export;

import dev.authservice.proto.auth.v1.AuditEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Audit events as a flat RFC 4180 table, one row each, with a header row.
 *
 * <p>Text cells are neutralised against CSV (formula) injection as OWASP advises: a cell that
 * begins with {@code =}, {@code +}, {@code -}, {@code @}, a tab or a carriage return gets a
 * single quote in front, so a spreadsheet shows it as text instead of evaluating it. Usernames
 * (anyone may try a Login with any name) and user agents are chosen by whoever caused the event.
 * The quote is part of the cell: strip one leading {@code '} before such a character to get the
 * stored value back. Times, numbers and hashes never begin with those characters.
 */
public final class CsvEvents implements AutoCloseable {
  public static final List<String> COLUMNS = List.of("time", "id", "type", "outcome", "username", "subject",
      "token_id", "client_ip", "user_agent", "rpc_method", "reason", "instance", "actor", "peer_identity", "count",
      "first_time", "last_time", "chain", "seq", "hash", "alert_rule", "alert_severity", "alert_summary",
      // last, so that the columns before keep their places for readers of earlier exports
      "trace_id");

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
      printer.printRecord(instant(e.getTime()), cell(e.getId()), e.getType().name(), e.getOutcome().name(),
          cell(e.getUsername()), cell(e.getSubject()), cell(e.getTokenId()), cell(e.getClientIp()),
          cell(e.getUserAgent()), cell(e.getRpcMethod()), cell(e.getReason()), cell(e.getInstance()),
          cell(e.getActor()), cell(e.getPeerIdentity()), e.getCount(), instant(e.getFirstTime()),
          instant(e.getLastTime()), cell(e.getChain()), e.getSeq(), cell(e.getHash()), cell(e.getAlert().getRule()),
          cell(e.getAlert().getSeverity()), cell(e.getAlert().getSummary()), cell(e.getTraceId()));
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  /** A text cell as written: with a leading single quote when it begins like a formula (see the class comment). */
  public static String cell(String value) {
    if (value.isEmpty()) {
      return value;
    }
    return switch (value.charAt(0)) {
      case '=', '+', '-', '@', '\t', '\r' -> "'" + value;
      default -> value;
    };
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
