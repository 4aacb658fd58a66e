package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.LoginRequest;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OTLP trace export, configured as an operator configures it: the standard OTEL_* variables, read by
 * {@link ServeCommand#otlpTraces} into the server's configuration. A collector of our own (the JDK's
 * HTTP server on loopback, recording each POST to /v1/traces) must receive the span of a Login call
 * under the trace id the caller sent in {@code traceparent}, the id its audit events carry too.
 */
class OtlpTraceExportTest {
  private static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent",
      Metadata.ASCII_STRING_MARSHALLER);
  private final List<byte[]> exports = new CopyOnWriteArrayList<>();
  private final List<String> contentTypes = new CopyOnWriteArrayList<>();
  private HttpServer collector;

  @BeforeEach
  void startCollector() throws IOException {
    collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    collector.createContext("/v1/traces", exchange -> {
      try (exchange; InputStream body = exchange.getRequestBody()) {
        if ("POST".equals(exchange.getRequestMethod())) {
          exports.add(body.readAllBytes());
          contentTypes.add(exchange.getRequestHeaders().getFirst("Content-Type"));
        }
        // an empty ExportTraceServiceResponse: everything accepted
        exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, -1);
      }
    });
    collector.start();
  }

  @AfterEach
  void stopCollector() {
    collector.stop(0);
  }

  private Map<String, String> environment() {
    return Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + collector.getAddress().getPort(),
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
        // export each batch within a tenth of a second rather than the default five
        "OTEL_BSP_SCHEDULE_DELAY", "100",
        "OTEL_SERVICE_NAME", "auth-server-under-test");
  }

  @Test
  void theSpanOfALoginReachesTheCollectorUnderTheCallersTraceIdAndTheAuditEventCarriesIt() throws Exception {
    Map<String, String> otel = ServeCommand.otlpTraces(environment());
    assertEquals("http/protobuf", otel.get("otel.exporter.otlp.protocol"), otel.toString());
    String traceId = "0af7651916cd43dd8448eb211c80319c";
    byte[] traceIdBytes = HexFormat.of().parseHex(traceId);
    try (TestServer server = TestServer.start(b -> b.otel(otel))) {
      Metadata headers = new Metadata();
      headers.put(TRACEPARENT, "00-" + traceId + "-b7ad6b7169203331-01");
      server.auth().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).login(LoginRequest
          .newBuilder().setUsername(TestServer.ADMIN).setPassword(TestServer.ADMIN_PASSWORD).build());

      Await.until("the Login span to reach the collector", 30, () -> exports.stream()
          .anyMatch(body -> contains(body, traceIdBytes) && contains(body, "AuthService.Login")));
      assertTrue(contentTypes.stream().allMatch("application/x-protobuf"::equals), contentTypes.toString());
      assertTrue(exports.stream().anyMatch(body -> contains(body, "auth-server-under-test")),
          "the service name from OTEL_SERVICE_NAME");

      List<AuditEvent> events = TestServer.withBearer(server.auth(), server.adminToken())
          .queryAudit(QueryAuditRequest.newBuilder().setTraceId(traceId).build()).getEventsList();
      assertTrue(events.stream().anyMatch(e -> e.getType() == AuditEventType.AUDIT_EVENT_TYPE_LOGIN), events.toString());
      events.forEach(e -> assertEquals(traceId, e.getTraceId()));
    }
  }

  @Test
  void exportIsOnOnlyWhenTheStandardVariablesAskForOtlp() {
    String endpoint = "http://127.0.0.1:" + collector.getAddress().getPort();
    assertTrue(ServeCommand.otlpTraces(Map.of()).isEmpty());
    assertTrue(ServeCommand.otlpTraces(Map.of("OTEL_SERVICE_NAME", "x")).isEmpty(), "no endpoint, no exporter");
    assertTrue(ServeCommand.otlpTraces(Map.of("OTEL_TRACES_EXPORTER", "none", "OTEL_EXPORTER_OTLP_ENDPOINT", endpoint))
        .isEmpty(), "none wins over an endpoint");
    assertEquals("otlp", ServeCommand.otlpTraces(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint + "/v1/traces"))
        .get("otel.traces.exporter"));
    Map<String, String> on = ServeCommand.otlpTraces(Map.of("OTEL_TRACES_EXPORTER", "otlp", "PATH", "/usr/bin",
        "OTEL_EXPORTER_OTLP_HEADERS", "api-key=k"));
    assertEquals(Map.of("otel.traces.exporter", "otlp", "otel.exporter.otlp.headers", "api-key=k"), on,
        "only OTEL_* variables are handed on");
  }

  private static boolean contains(byte[] body, String text) {
    return contains(body, text.getBytes(StandardCharsets.UTF_8));
  }

  private static boolean contains(byte[] body, byte[] part) {
    outer:
    for (int i = 0; i + part.length <= body.length; i++) {
      for (int j = 0; j < part.length; j++) {
        if (body[i + j] != part[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
