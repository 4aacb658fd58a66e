package dev.authservice.client.report;

import com.google.protobuf.Timestamp;
import dev.authservice.client.AuthClient;
import dev.authservice.proto.auth.v1.AuditDimension;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.ChainReport;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import dev.authservice.proto.auth.v1.SummarizeAuditRequest;
import dev.authservice.proto.auth.v1.SummaryRow;
import dev.authservice.proto.auth.v1.TimeBucket;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.proto.auth.v1.VerifyAuditResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code authctl report}: one self-contained HTML page about a period: logins and validations
 * by outcome per hour, the top failing usernames and addresses, the alerts, and whether the
 * trail verifies. Everything comes from SummarizeAudit, QueryAudit and VerifyAudit.
 */
public final class AuditReport {
  private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("MM-dd HH:00").withZone(ZoneOffset.UTC);
  private static final int TOP = 10;

  private final AuthClient client;

  public AuditReport(AuthClient client) {
    this.client = client;
  }

  public String html(Instant start, Instant end) {
    StringBuilder page = new StringBuilder(64 * 1024);
    page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audit report</title>\n")
        .append("<style>").append(STYLE).append("</style></head><body>\n")
        .append("<h1>Audit report</h1>\n<p class=\"period\">").append(start).append(" &ndash; ").append(end)
        .append(" (UTC)</p>\n");
    List<String> hours = hours(start, end);
    Map<String, Map<String, Long>> logins = perHour(start, end, AuditEventType.AUDIT_EVENT_TYPE_LOGIN);
    page.append(figure("logins", Charts.stacked("Logins by outcome per hour", hours, logins, series(logins))));
    Map<String, Map<String, Long>> validations = perHour(start, end, AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE);
    page.append(figure("validations", Charts.stacked("Validations by outcome per hour", hours, validations,
        series(validations))));
    page.append(figure("failing-usernames", Charts.top("Top failing usernames (logins)", "username",
        topFailing(start, end, AuditDimension.AUDIT_DIMENSION_USERNAME))));
    page.append(figure("failing-addresses", Charts.top("Top failing addresses (logins and validations)", "address",
        topFailing(start, end, AuditDimension.AUDIT_DIMENSION_CLIENT_IP))));
    List<AuditEvent> alerts = client.queryAuditAll(QueryAuditRequest.newBuilder().setStartTime(ts(start))
        .setEndTime(ts(end)).addTypes(AuditEventType.AUDIT_EVENT_TYPE_ALERT).build()).limit(1000).toList();
    Map<String, Long> byRule = new LinkedHashMap<>();
    alerts.forEach(a -> byRule.merge(a.getAlert().getRule(), 1L, Long::sum));
    page.append(figure("alerts", Charts.top("Alerts by rule", "rule", byRule.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).toList())));
    page.append(alertTable(alerts));
    page.append(integrity(client.verifyAudit(VerifyAuditRequest.newBuilder().setStartTime(ts(start)).build())));
    page.append("<script>").append(DRAWN_CHECK).append("</script>\n</body></html>\n");
    return page.toString();
  }

  private static final List<String> OUTCOMES = List.of("AUDIT_OUTCOME_SUCCESS", "AUDIT_OUTCOME_FAILURE");
  /** Outcomes the server counted under a name this client does not know (a newer version's events). */
  private static final String OTHER_OUTCOME = "(other outcomes)";

  /** The series to draw: both outcomes, and the others only when there are any. */
  private static List<String> series(Map<String, Map<String, Long>> perHour) {
    boolean others = perHour.values().stream().anyMatch(hour -> hour.containsKey(OTHER_OUTCOME));
    return others ? List.of(OUTCOMES.get(0), OUTCOMES.get(1), OTHER_OUTCOME) : OUTCOMES;
  }

  private Map<String, Map<String, Long>> perHour(Instant start, Instant end, AuditEventType type) {
    Map<String, Map<String, Long>> out = new LinkedHashMap<>();
    for (SummaryRow row : client.summarizeAudit(SummarizeAuditRequest.newBuilder().setStartTime(ts(start))
        .setEndTime(ts(end)).addTypes(type).addGroupBy(AuditDimension.AUDIT_DIMENSION_OUTCOME)
        .setBucket(TimeBucket.TIME_BUCKET_HOUR).build()).getRowsList()) {
      out.computeIfAbsent(HOUR.format(Instant.ofEpochSecond(row.getBucketStart().getSeconds())), k -> new LinkedHashMap<>())
          .merge(row.getOther() || !OUTCOMES.contains(row.getKeys(0)) ? OTHER_OUTCOME : row.getKeys(0),
              row.getCount(), Long::sum);
    }
    return out;
  }

  private List<Map.Entry<String, Long>> topFailing(Instant start, Instant end, AuditDimension dimension) {
    SummarizeAuditRequest.Builder request = SummarizeAuditRequest.newBuilder().setStartTime(ts(start))
        .setEndTime(ts(end)).setOutcome(AuditOutcome.AUDIT_OUTCOME_FAILURE)
        .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).addGroupBy(dimension).setLimit(TOP);
    if (dimension == AuditDimension.AUDIT_DIMENSION_CLIENT_IP) {
      request.addTypes(AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE);
    }
    List<Map.Entry<String, Long>> rows = new ArrayList<>();
    for (SummaryRow row : client.summarizeAudit(request.build()).getRowsList()) {
      // the server's count of every group past its cap, when there were that many
      rows.add(Map.entry(row.getOther() ? "(all others)" : row.getKeys(0), row.getCount()));
    }
    return rows;
  }

  private static List<String> hours(Instant start, Instant end) {
    List<String> hours = new ArrayList<>();
    for (Instant h = start.truncatedTo(ChronoUnit.HOURS); h.isBefore(end) && hours.size() < 24 * 31;
        h = h.plus(1, ChronoUnit.HOURS)) {
      hours.add(HOUR.format(h));
    }
    return hours;
  }

  private static String figure(String name, String svg) {
    return "<figure class=\"chart\" data-chart=\"" + name + "\">" + svg + "</figure>\n";
  }

  private static String alertTable(List<AuditEvent> alerts) {
    StringBuilder t = new StringBuilder("<h2>Alerts</h2>\n");
    if (alerts.isEmpty()) {
      return t.append("<p>No alerts in this period.</p>\n").toString();
    }
    t.append("<table><tr><th>time</th><th>rule</th><th>severity</th><th>user</th><th>address</th><th>summary</th>"
        + "<th>events</th></tr>\n");
    for (AuditEvent a : alerts) {
      t.append("<tr class=\"").append(escape(a.getAlert().getSeverity())).append("\"><td>")
          .append(Instant.ofEpochSecond(a.getTime().getSeconds())).append("</td><td>").append(escape(a.getAlert().getRule()))
          .append("</td><td>").append(escape(a.getAlert().getSeverity())).append("</td><td>").append(escape(a.getUsername()))
          .append("</td><td>").append(escape(a.getClientIp())).append("</td><td>").append(escape(a.getAlert().getSummary()))
          .append("</td><td>").append(a.getAlert().getCount()).append("</td></tr>\n");
    }
    return t.append("</table>\n").toString();
  }

  private static String integrity(VerifyAuditResponse v) {
    StringBuilder t = new StringBuilder("<h2>Integrity</h2>\n<p class=\"integrity ")
        .append(v.getOk() ? "ok\">The trail verifies: " : "bad\">PROBLEMS FOUND: ")
        .append(v.getEventsVerified()).append(" events and ").append(v.getCheckpointsVerified())
        .append(" signed checkpoints checked; ").append(v.getUnanchoredEvents())
        .append(" recent events not yet anchored by a checkpoint.</p>\n");
    t.append("<table><tr><th>chain</th><th>events</th><th>problem</th><th>first bad seq</th><th>detail</th></tr>\n");
    for (ChainReport c : v.getChainsList()) {
      t.append("<tr><td>").append(escape(c.getChain())).append("</td><td>").append(c.getEvents()).append("</td><td>")
          .append(c.getProblem().name().replace("AUDIT_PROBLEM_", "").replace("UNSPECIFIED", "-")).append("</td><td>")
          .append(c.getFirstBadSeq() == 0 ? "-" : Long.toString(c.getFirstBadSeq())).append("</td><td>")
          .append(escape(c.getDetail())).append("</td></tr>\n");
    }
    return t.append("</table>\n").toString();
  }

  static String escape(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private static final String STYLE = "body{font-family:sans-serif;margin:2em;color:#222;max-width:960px}"
      + "h1{margin-bottom:0}.period{color:#555}figure.chart{margin:1.5em 0;border:1px solid #e0e0e0}"
      + "table{border-collapse:collapse;font-size:13px;width:100%}td,th{border:1px solid #ddd;padding:4px 6px;"
      + "text-align:left}tr.high td{background:#fdecea}tr.medium td{background:#fff8e1}"
      + ".integrity.ok{color:#2e7d32;font-weight:bold}.integrity.bad{color:#c62828;font-weight:bold}";

  /** Marks each chart that the browser laid out with real size and drawn shapes: what the report test checks. */
  private static final String DRAWN_CHECK = "document.querySelectorAll('figure.chart').forEach(function(f){"
      + "var s=f.querySelector('svg');if(!s)return;var b=s.getBBox();"
      + "var shapes=s.querySelectorAll('rect,path,line,text').length;"
      + "if(b.width>0&&b.height>0&&shapes>10){f.setAttribute('data-drawn','true');}});";
}
