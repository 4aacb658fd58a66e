package dev.authservice.client.integrity;

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
 * The JSON Lines export: one JSON object per line, each with one member. The first line is
 * {@code {"export": {"version": 1, "start_time": ..., "created": ...}}}; then
 * {@code {"event": <AuditEvent>}} and {@code {"checkpoint": <AuditCheckpoint>}} lines, the
 * messages in the proto3 JSON mapping with their proto field names.
 */
public final class ExportFile {
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
      .omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

  /** What an export holds. */
  public record Contents(Optional<Instant> start, List<AuditEvent> events, List<AuditCheckpoint> checkpoints) {}

  private ExportFile() {}

  public static void header(PrintWriter out, Optional<Instant> start, Instant created) {
    out.println("{\"export\":{\"version\":1" + start.map(s -> ",\"start_time\":\"" + s + "\"").orElse("")
        + ",\"created\":\"" + created + "\"}}");
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

  /** Reads an export; a line that is not one of the three kinds is an error naming its number. */
  public static Contents read(Path file) {
    List<AuditEvent> events = new ArrayList<>();
    List<AuditCheckpoint> checkpoints = new ArrayList<>();
    Optional<Instant> start = Optional.empty();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = in.readLine()) != null) {
        number++;
        String trimmed = line.strip();
        if (trimmed.isEmpty()) {
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
            int at = trimmed.indexOf("\"start_time\":\"");
            if (at >= 0) {
              int from = at + "\"start_time\":\"".length();
              start = Optional.of(Instant.parse(trimmed.substring(from, trimmed.indexOf('"', from))));
            }
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
    return new Contents(start, events, checkpoints);
  }

  private static String inner(String line, String prefix) {
    if (!line.endsWith("}")) {
      throw new IllegalArgumentException("unterminated object");
    }
    return line.substring(prefix.length(), line.length() - 1);
  }
}
