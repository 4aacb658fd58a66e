package dev.authservice.server.audit.write;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.AuditEventType;
import dev.authservice.server.audit.AuditOutcome;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How the audit spool keeps one event: a format version byte, then every field of
 * {@link AuditEvent} in declaration order, big-endian. Strings are a length (int) and UTF-8;
 * instants are epoch seconds (long) and nanoseconds (int), so nothing is rounded; type and
 * outcome by their stored names, which never change; the alert as a presence byte and its
 * fields. Only this server reads the spool back, but a spool can outlive an upgrade: a later
 * format gets a new version number and this class keeps reading the earlier ones.
 */
final class AuditSpoolFormat {
  static final byte VERSION_1 = 1;
  /** Version 1 and the trace id after the peer identity; written only for events with one, so a spool of
   * events without stays readable by a server from before trace ids. */
  static final byte VERSION_2 = 2;
  /** Far above any honest field (an alert's evidence list included); a longer length means a damaged entry. */
  private static final int MAX_LENGTH = 16 * 1024 * 1024;

  private AuditSpoolFormat() {}

  static byte[] encode(AuditEvent e) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      boolean traced = !e.traceId().isEmpty();
      out.writeByte(traced ? VERSION_2 : VERSION_1);
      string(out, e.id());
      instant(out, e.time());
      string(out, e.type().storedName());
      string(out, e.outcome().storedName());
      for (String field : List.of(e.username(), e.subject(), e.tokenId(), e.clientIp(), e.userAgent(), e.rpcMethod(),
          e.reason(), e.instance(), e.actor(), e.peerIdentity())) {
        string(out, field);
      }
      if (traced) {
        string(out, e.traceId());
      }
      out.writeLong(e.count());
      instant(out, e.firstTime());
      instant(out, e.lastTime());
      out.writeBoolean(e.alert().isPresent());
      if (e.alert().isPresent()) {
        AuditEvent.Alert a = e.alert().get();
        string(out, a.rule());
        string(out, a.severity());
        string(out, a.summary());
        out.writeInt(a.evidenceEventIds().size());
        for (String id : a.evidenceEventIds()) {
          string(out, id);
        }
        out.writeLong(a.count());
      }
      string(out, e.chain());
      out.writeLong(e.seq());
      string(out, e.prevHash());
      string(out, e.hash());
    } catch (IOException impossible) {
      throw new UncheckedIOException(impossible);
    }
    return bytes.toByteArray();
  }

  /** The event, or an {@link IllegalStateException} saying why the entry cannot be one. */
  static AuditEvent decode(byte[] entry) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(entry))) {
      byte version = in.readByte();
      if (version != VERSION_1 && version != VERSION_2) {
        throw new IllegalStateException("audit spool entry of format " + version + ", which this version of the"
            + " server does not know (written by a newer one?)");
      }
      String id = string(in);
      Instant time = instant(in);
      AuditEventType type = AuditEventType.fromStoredName(string(in));
      AuditOutcome outcome = AuditOutcome.fromStoredName(string(in));
      if (!type.isKnown() || !outcome.isKnown()) {
        // this server wrote the entry: a name it does not know is damage, not a newer version
        throw new IllegalStateException("audit spool entry with an event type or outcome this server does not write");
      }
      String[] fields = new String[10];
      for (int i = 0; i < fields.length; i++) {
        fields[i] = string(in);
      }
      String traceId = version == VERSION_2 ? string(in) : "";
      long count = in.readLong();
      Instant first = instant(in);
      Instant last = instant(in);
      Optional<AuditEvent.Alert> alert = Optional.empty();
      if (in.readBoolean()) {
        String rule = string(in);
        String severity = string(in);
        String summary = string(in);
        int n = length(in.readInt());
        List<String> evidence = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
          evidence.add(string(in));
        }
        alert = Optional.of(new AuditEvent.Alert(rule, severity, summary, evidence, in.readLong()));
      }
      String chain = string(in);
      long seq = in.readLong();
      String prevHash = string(in);
      String hash = string(in);
      if (in.available() > 0) {
        throw new IllegalStateException("audit spool entry with " + in.available() + " bytes after its last field");
      }
      return new AuditEvent(id, time, type, outcome, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
          fields[6], fields[7], fields[8], fields[9], traceId, count, first, last, alert, chain, seq, prevHash, hash);
    } catch (EOFException e) {
      throw new IllegalStateException("audit spool entry cut short", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      // an unknown type or outcome name, a count below 1
      throw new IllegalStateException("audit spool entry that is no event: " + e.getMessage(), e);
    }
  }

  private static void string(DataOutputStream out, String value) throws IOException {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }

  private static String string(DataInputStream in) throws IOException {
    byte[] utf8 = new byte[length(in.readInt())];
    in.readFully(utf8);
    return new String(utf8, StandardCharsets.UTF_8);
  }

  private static int length(int n) {
    if (n < 0 || n > MAX_LENGTH) {
      throw new IllegalStateException("audit spool entry with a field of length " + n);
    }
    return n;
  }

  private static void instant(DataOutputStream out, Instant t) throws IOException {
    out.writeLong(t.getEpochSecond());
    out.writeInt(t.getNano());
  }

  private static Instant instant(DataInputStream in) throws IOException {
    return Instant.ofEpochSecond(in.readLong(), in.readInt());
  }
}
