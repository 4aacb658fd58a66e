package dev.authservice.client.integrity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.authservice.proto.auth.v1.AuditCheckpoint;
import dev.authservice.proto.auth.v1.AuditEvent;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The JSON Lines export: one JSON object per line, each with one member. The first line is the
 * header {@code {"export": {"version": 2, "start_time": ..., "end_time": ..., "created": ...}}};
 * then {@code {"event": <AuditEvent>}} and {@code {"checkpoint": <AuditCheckpoint>}} lines, the
 * messages in the proto3 JSON mapping with their proto field names.
 *
 * <p>The header is not signed: it only says which window the export was made for, so that the
 * verifier knows which signed checkpoints to start each chain from. A header that lies can
 * make a verification cover less, never trust more (see {@code TrailVerifier.Window}).
 *
 * <p>Version 2 (this one): a windowed export starts each chain right after the head its newest
 * checkpoint at or before {@code start_time} names and carries that checkpoint. Version 1 (older
 * authctl) started every chain at {@code start_time}: read the same way, so a chain that had no
 * checkpoint before the start shows missing events; export it again to verify it.
 */
public final class ExportFile {
  /** The version this authctl writes. */
  public static final int VERSION = 2;
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
      .omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What an export holds. */
  public record Contents(int version, Optional<Instant> start, Optional<Instant> end, List<AuditEvent> events,
      List<AuditCheckpoint> checkpoints) {}

  private ExportFile() {}

  public static void header(PrintWriter out, Optional<Instant> start, Optional<Instant> end, Instant created) {
    ObjectNode header = JSON.createObjectNode();
    header.put("version", VERSION);
    start.ifPresent(s -> header.put("start_time", s.toString()));
    end.ifPresent(e -> header.put("end_time", e.toString()));
    header.put("created", created.toString());
    out.println("{\"export\":" + header + "}");
  }

  public static String line(AuditEvent event) {
    return "{\"event\":" + print(event) + "}";
  }

  public static String line(AuditCheckpoint checkpoint) {
    return "{\"checkpoint\":" + print(checkpoint) + "}";
  }

  private static String print(Message message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads an export; a line that is not one of the three kinds, a header that is not the first
   * line, or a version this authctl does not know is an error naming its line.
   */
  public static Contents read(Path file) {
    List<AuditEvent> events = new ArrayList<>();
    List<AuditCheckpoint> checkpoints = new ArrayList<>();
    Header header = null;
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = in.readLine()) != null) {
        number++;
        String trimmed = line.strip();
        if (trimmed.isEmpty()) {
          continue;
        }
        if (header == null) {
          if (!trimmed.startsWith("{\"export\":")) {
            throw new IllegalArgumentException(file + " line " + number + " is not an export header: an audit export"
                + " (authctl audit export --format jsonl) begins with {\"export\":...}");
          }
          header = header(file, number, trimmed);
          continue;
        }
        try {
          if (trimmed.startsWith("{\"event\":")) {
            AuditEvent.Builder event = AuditEvent.newBuilder();
            PARSER.merge(inner(trimmed, "{\"event\":"), event);
            events.add(event.build());
          } else if (trimmed.startsWith("{\"checkpoint\":")) {
            AuditCheckpoint.Builder checkpoint = AuditCheckpoint.newBuilder();
            PARSER.merge(inner(trimmed, "{\"checkpoint\":"), checkpoint);
            checkpoints.add(checkpoint.build());
          } else if (trimmed.startsWith("{\"export\":")) {
            throw new IllegalArgumentException("a second export header");
          } else {
            throw new IllegalArgumentException("not an export line");
          }
        } catch (InvalidProtocolBufferException | RuntimeException e) {
          throw new IllegalArgumentException(file + " line " + number + " is not an audit export line: "
              + e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    if (header == null) {
      throw new IllegalArgumentException(file + " is empty: an audit export begins with {\"export\":...}");
    }
    return new Contents(header.version, header.start, header.end, events, checkpoints);
  }

  private record Header(int version, Optional<Instant> start, Optional<Instant> end) {}

  private static Header header(Path file, int number, String line) {
    String where = file + " line " + number + " (the export header)";
    JsonNode header;
    try {
      header = JSON.readTree(line).get("export");
    } catch (IOException e) {
      throw new IllegalArgumentException(where + " is not JSON");
    }
    if (header == null || !header.isObject() || !header.path("version").canConvertToInt()) {
      throw new IllegalArgumentException(where + " has no version");
    }
    int version = header.get("version").asInt();
    if (version < 1 || version > VERSION) {
      throw new IllegalArgumentException(where + " says version " + version + "; this authctl reads versions 1 to "
          + VERSION + ": use a newer authctl");
    }
    return new Header(version, time(header, "start_time", where), time(header, "end_time", where));
  }

  private static Optional<Instant> time(JsonNode header, String field, String where) {
    JsonNode value = header.get(field);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(value.asText()));
    } catch (java.time.format.DateTimeParseException e) {
      throw new IllegalArgumentException(where + " has a " + field + " that is not an RFC 3339 time");
    }
  }

  private static String inner(String line, String prefix) {
    if (!line.endsWith("}")) {
      throw new IllegalArgumentException("unterminated object");
    }
    return line.substring(prefix.length(), line.length() - 1);
  }
}
