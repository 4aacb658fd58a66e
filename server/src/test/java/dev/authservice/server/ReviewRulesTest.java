package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.RunReviewRequest;
import dev.authservice.proto.auth.v1.RunReviewResponse;
import dev.authservice.proto.auth.v1.VerifyAuditRequest;
import dev.authservice.server.review.ReviewSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each review rule, on crafted events written straight into the store: a suspicious sequence
 * gives exactly its alert, a benign one none. Every test uses a window of its own.
 */
class ReviewRulesTest {
  private static TestServer server;
  private static String adminToken;
  private static long nextWindow = Instant.parse("2026-03-01T00:00:00Z").toEpochMilli();

  @BeforeAll
  static void start() {
    server = TestServer.start(b -> b.review(new ReviewSettings(Optional.empty(),
        ReviewSettings.DEFAULTS.failedLoginBurst(), ReviewSettings.DEFAULTS.credentialStuffing(),
        ReviewSettings.DEFAULTS.successAfterFailures(), ReviewSettings.DEFAULTS.newAddress(),
        ReviewSettings.DEFAULTS.tokenForgery(), true, ReviewSettings.hours("test", "08:00-18:00"))));
    adminToken = server.adminToken();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** A fresh hour of its own for each test, so their events never meet. */
  private static synchronized Instant window() {
    nextWindow += Duration.ofHours(2).toMillis();
    return Instant.ofEpochMilli(nextWindow);
  }

  private static Document event(Instant time, String type, boolean success, String username, String ip, String reason) {
    Document doc = new Document("_id", UUID.randomUUID().toString()).append("time", Date.from(time))
        .append("type", "AUDIT_EVENT_TYPE_" + type).append("outcome", success ? "AUDIT_OUTCOME_SUCCESS" : "AUDIT_OUTCOME_FAILURE")
        .append("count", 1L).append("instance", "crafted");
    if (!username.isEmpty()) {
      doc.append("username", username);
    }
    if (!ip.isEmpty()) {
      doc.append("client_ip", ip);
    }
    if (!reason.isEmpty()) {
      doc.append("reason", reason);
    }
    return doc;
  }

  private static void write(List<Document> events) {
    server.database().getCollection("audit_events").insertMany(events);
  }

  private static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  private static List<AuditEvent> review(Instant start) {
    RunReviewResponse response = TestServer.withBearer(server.auth(), adminToken).runReview(RunReviewRequest.newBuilder()
        .setStartTime(ts(start)).setEndTime(ts(start.plus(Duration.ofHours(1)))).build());
    return response.getAlertsList();
  }

  private static AuditEvent onlyAlert(List<AuditEvent> alerts, String rule) {
    assertEquals(1, alerts.size(), "exactly one alert: " + alerts);
    AuditEvent alert = alerts.get(0);
    assertEquals(AuditEventType.AUDIT_EVENT_TYPE_ALERT, alert.getType());
    assertEquals(rule, alert.getAlert().getRule());
    return alert;
  }

  private static List<String> ids(List<Document> events) {
    return events.stream().map(d -> d.getString("_id")).toList();
  }

  @Test
  void failedLoginBurst() {
    Instant t = window();
    List<Document> burst = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      burst.add(event(t.plusSeconds(60 + i * 20), "LOGIN", false, "victim", "10.1.0." + i, "bad_password"));
    }
    List<Document> benign = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      // a dozen failures, but never ten within five minutes
      benign.add(event(t.plusSeconds(i * 290), "LOGIN", false, "forgetful", "10.2.0.1", "bad_password"));
    }
    write(burst);
    write(benign);
    AuditEvent alert = onlyAlert(review(t), "FAILED_LOGIN_BURST");
    assertEquals("victim", alert.getUsername());
    assertEquals(10, alert.getAlert().getCount());
    assertEquals(ids(burst), alert.getAlert().getEvidenceEventIdsList());
    assertEquals("medium", alert.getAlert().getSeverity());
  }

  @Test
  void credentialStuffing() {
    Instant t = window();
    List<Document> stuffing = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      stuffing.add(event(t.plusSeconds(100 + i * 30), "LOGIN", false, "user" + i, "203.0.113.9", "unknown_user"));
    }
    List<Document> benign = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      // one address, many failures, but only four usernames (an office behind NAT mistyping)
      benign.add(event(t.plusSeconds(100 + i * 20), "LOGIN", false, "staff" + (i % 4), "198.51.100.7", "bad_password"));
    }
    write(stuffing);
    write(benign);
    AuditEvent alert = onlyAlert(review(t), "CREDENTIAL_STUFFING");
    assertEquals("203.0.113.9", alert.getClientIp());
    assertEquals("", alert.getUsername());
    assertEquals(5, alert.getAlert().getCount());
    assertEquals("high", alert.getAlert().getSeverity());
  }

  @Test
  void aLoginOfAnOutcomeThisVersionDoesNotKnowIsNeitherASuccessNorClearsTheFailures() {
    Instant t = window();
    List<Document> events = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      events.add(event(t.plusSeconds(60 + i * 30), "LOGIN", false, "upgraded", "10.3.1.1", "bad_password"));
    }
    // a newer version's outcome, between the failures and the success: no alert of its own, and the
    // failures before it still count for the success after it
    events.add(event(t.plusSeconds(300), "LOGIN", false, "upgraded", "10.3.1.1", "")
        .append("outcome", "AUDIT_OUTCOME_PARTIAL"));
    Document success = event(t.plusSeconds(400), "LOGIN", true, "upgraded", "10.3.1.1", "");
    events.add(success);
    write(events);
    AuditEvent alert = onlyAlert(review(t), "SUCCESS_AFTER_FAILURES");
    assertTrue(alert.getAlert().getEvidenceEventIdsList().contains(success.getString("_id")),
        "the alert is for the real success, not the unknown outcome: " + alert.getAlert().getEvidenceEventIdsList());
  }

  @Test
  void successAfterFailures() {
    Instant t = window();
    List<Document> events = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      events.add(event(t.plusSeconds(60 + i * 30), "LOGIN", false, "target", "10.3.0.1", "bad_password"));
    }
    Document success = event(t.plusSeconds(400), "LOGIN", true, "target", "10.3.0.1", "");
    events.add(success);
    // benign: four failures, then a success
    for (int i = 0; i < 4; i++) {
      events.add(event(t.plusSeconds(60 + i * 30), "LOGIN", false, "typo", "10.3.0.2", "bad_password"));
    }
    events.add(event(t.plusSeconds(400), "LOGIN", true, "typo", "10.3.0.2", ""));
    write(events);
    AuditEvent alert = onlyAlert(review(t), "SUCCESS_AFTER_FAILURES");
    assertEquals("target", alert.getUsername());
    assertEquals(6, alert.getAlert().getCount());
    assertTrue(alert.getAlert().getEvidenceEventIdsList().contains(success.getString("_id")));
  }

  @Test
  void newAddress() {
    Instant t = window();
    List<Document> events = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      // history before the window, from the usual address
      events.add(event(t.minus(Duration.ofDays(1)).plusSeconds(i * 60), "LOGIN", true, "traveler", "10.4.0.1", ""));
      events.add(event(t.minus(Duration.ofDays(1)).plusSeconds(i * 60), "LOGIN", true, "homebody", "10.4.0.2", ""));
    }
    events.add(event(t.plusSeconds(600), "LOGIN", true, "traveler", "192.0.2.55", ""));
    events.add(event(t.plusSeconds(600), "LOGIN", true, "homebody", "10.4.0.2", ""));
    // too little history to judge: no alert
    events.add(event(t.minus(Duration.ofDays(1)), "LOGIN", true, "newcomer", "10.4.0.3", ""));
    events.add(event(t.plusSeconds(600), "LOGIN", true, "newcomer", "192.0.2.66", ""));
    write(events);
    AuditEvent alert = onlyAlert(review(t), "NEW_ADDRESS");
    assertEquals("traveler", alert.getUsername());
    assertEquals("192.0.2.55", alert.getClientIp());
    assertEquals("low", alert.getAlert().getSeverity());
  }

  @Test
  void tokenForgery() {
    Instant t = window();
    List<Document> events = new ArrayList<>();
    events.add(event(t.plusSeconds(10), "TOKEN_VALIDATE", false, "", "198.18.0.5", "VALIDATION_FAILURE_BAD_SIGNATURE"));
    events.add(event(t.plusSeconds(20), "TOKEN_VALIDATE", false, "", "198.18.0.5", "VALIDATION_FAILURE_UNSUPPORTED_ALGORITHM"));
    events.add(event(t.plusSeconds(30), "TOKEN_VALIDATE", false, "", "198.18.0.5", "VALIDATION_FAILURE_UNKNOWN_KEY"));
    // benign: expired tokens are not forgeries, and two bad signatures are not three
    for (int i = 0; i < 5; i++) {
      events.add(event(t.plusSeconds(10 + i), "TOKEN_VALIDATE", false, "", "198.18.0.6", "VALIDATION_FAILURE_EXPIRED"));
    }
    events.add(event(t.plusSeconds(10), "TOKEN_VALIDATE", false, "", "198.18.0.7", "VALIDATION_FAILURE_BAD_SIGNATURE"));
    events.add(event(t.plusSeconds(20), "TOKEN_VALIDATE", false, "", "198.18.0.7", "VALIDATION_FAILURE_BAD_SIGNATURE"));
    write(events);
    AuditEvent alert = onlyAlert(review(t), "TOKEN_FORGERY");
    assertEquals("198.18.0.5", alert.getClientIp());
    assertEquals(3, alert.getAlert().getCount());
  }

  @Test
  void revokedTokenUse() {
    Instant t = window();
    List<Document> events = new ArrayList<>();
    events.add(event(t.plusSeconds(10), "TOKEN_VALIDATE", false, "leaver", "10.6.0.1", "VALIDATION_FAILURE_REVOKED"));
    events.add(event(t.plusSeconds(20), "TOKEN_VALIDATE", true, "stayer", "10.6.0.2", ""));
    events.add(event(t.plusSeconds(30), "TOKEN_VALIDATE", false, "stayer", "10.6.0.2", "VALIDATION_FAILURE_EXPIRED"));
    write(events);
    AuditEvent alert = onlyAlert(review(t), "REVOKED_TOKEN_USE");
    assertEquals("leaver", alert.getUsername());
    assertEquals("10.6.0.1", alert.getClientIp());
  }

  @Test
  void offHoursAdmin() {
    Instant t = window();
    Instant night = t.atZone(java.time.ZoneOffset.UTC).withHour(3).toInstant();
    Instant day = t.atZone(java.time.ZoneOffset.UTC).withHour(10).toInstant();
    List<Document> events = new ArrayList<>();
    events.add(event(night.plusSeconds(5), "USER_CREATE", true, "newbie", "10.7.0.1", "").append("actor", "nightowl"));
    events.add(event(day.plusSeconds(5), "USER_CREATE", true, "other", "10.7.0.2", "").append("actor", "dayshift"));
    write(events);
    List<AuditEvent> nightAlerts = TestServer.withBearer(server.auth(), adminToken).runReview(RunReviewRequest.newBuilder()
        .setStartTime(ts(night)).setEndTime(ts(night.plus(Duration.ofHours(1)))).build()).getAlertsList();
    AuditEvent alert = onlyAlert(nightAlerts, "OFF_HOURS_ADMIN");
    assertEquals("nightowl", alert.getUsername());
    List<AuditEvent> dayAlerts = TestServer.withBearer(server.auth(), adminToken).runReview(RunReviewRequest.newBuilder()
        .setStartTime(ts(day)).setEndTime(ts(day.plus(Duration.ofHours(1)))).build()).getAlertsList();
    assertEquals(List.of(), dayAlerts, "an admin action inside the hours is no alert");
  }

  @Test
  void reviewingAWindowAgainReturnsTheSameAlertsAndRecordsNoneTwiceAndTheTrailStaysVerifiable() {
    Instant t = window();
    List<Document> burst = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      burst.add(event(t.plusSeconds(i), "LOGIN", false, "again", "10.8.0.1", "bad_password"));
    }
    write(burst);
    List<AuditEvent> first = review(t);
    List<AuditEvent> second = review(t);
    assertEquals(1, first.size());
    assertEquals(first, second, "the same alert, with the same id, chain position and time");
    MongoCollection<Document> stored = server.database().getCollection("audit_events");
    assertEquals(1, stored.countDocuments(Filters.eq("_id", first.get(0).getId())));
    assertTrue(first.get(0).getSeq() > 0, "alerts are chained like any other event");
    assertTrue(TestServer.withBearer(server.auth(), adminToken).verifyAudit(VerifyAuditRequest.getDefaultInstance())
        .getOk());
  }

  @Test
  void onlyAdminsRunReviewsAndWindowsAreChecked() {
    StatusRuntimeException anonymous = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> server.auth().runReview(RunReviewRequest.getDefaultInstance()));
    assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());
    Instant t = window();
    StatusRuntimeException halfOpen = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> TestServer.withBearer(server.auth(), adminToken).runReview(RunReviewRequest.newBuilder()
            .setStartTime(ts(t)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, halfOpen.getStatus().getCode());
    StatusRuntimeException tooLong = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> TestServer.withBearer(server.auth(), adminToken).runReview(RunReviewRequest.newBuilder()
            .setStartTime(ts(t)).setEndTime(ts(t.plus(Duration.ofDays(40)))).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, tooLong.getStatus().getCode());
    // two times within one millisecond: the trail's times are milliseconds, so no window at all
    // (it was an internal error, with a stack trace in the log)
    com.google.protobuf.Timestamp early = com.google.protobuf.Timestamp.newBuilder().setSeconds(t.getEpochSecond())
        .setNanos(1_000).build();
    StatusRuntimeException withinAMillisecond = org.junit.jupiter.api.Assertions.assertThrows(
        StatusRuntimeException.class, () -> TestServer.withBearer(server.auth(), adminToken).runReview(
            RunReviewRequest.newBuilder().setStartTime(early).setEndTime(early.toBuilder().setNanos(2_000)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, withinAMillisecond.getStatus().getCode());
    assertEquals("start_time must be before end_time, by at least a millisecond",
        withinAMillisecond.getStatus().getDescription());
    // the previous full UTC day: nothing crafted there, so no alerts, and no error
    assertEquals(0, TestServer.withBearer(server.auth(), adminToken).runReview(RunReviewRequest.getDefaultInstance())
        .getAlertsCount());
  }
}
