package dev.authservice.client.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.authservice.proto.auth.v1.AuditEvent;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;

/**
 * Audit events as OCSF 1.4 events, one JSON object each: logins as Authentication (3002), alerts
 * as Detection Finding (2004), everything else (validations, queries, token and admin actions)
 * as API Activity (6003). What OCSF has no attribute for goes under {@code unmapped}.
 */
public final class OcsfEvents {
  static final String OCSF_VERSION = "1.4.0";
  private static final ObjectMapper JSON = new ObjectMapper();

  private OcsfEvents() {}

  public static String json(AuditEvent e) {
    ObjectNode o = JSON.createObjectNode();
    boolean success = e.getOutcome() == AuditOutcome.AUDIT_OUTCOME_SUCCESS;
    int classUid;
    int activityId;
    String activityName;
    switch (e.getType()) {
      case AUDIT_EVENT_TYPE_LOGIN -> {
        classUid = 3002;
        activityId = 1;
        activityName = "Logon";
      }
      case AUDIT_EVENT_TYPE_ACCOUNT_LOCKED -> {
        classUid = 3002;
        activityId = 99;
        activityName = "Other";
      }
      case AUDIT_EVENT_TYPE_ALERT -> {
        classUid = 2004;
        activityId = 1;
        activityName = "Create";
      }
      default -> {
        classUid = 6003;
        activityId = apiActivity(e.getType());
        activityName = switch (activityId) {
          case 1 -> "Create";
          case 2 -> "Read";
          case 3 -> "Update";
          case 4 -> "Delete";
          default -> "Other";
        };
      }
    }
    o.put("class_uid", classUid);
    o.put("class_name", switch (classUid) {
      case 3002 -> "Authentication";
      case 2004 -> "Detection Finding";
      default -> "API Activity";
    });
    o.put("category_uid", classUid / 1000);
    o.put("category_name", switch (classUid / 1000) {
      case 3 -> "Identity & Access Management";
      case 2 -> "Findings";
      default -> "Application Activity";
    });
    o.put("activity_id", activityId);
    o.put("activity_name", activityName);
    o.put("type_uid", classUid * 100L + activityId);
    o.put("time", millis(e.getTime()));
    // an outcome the server did not know (a newer version's event) is OCSF's Unknown, not a failure
    boolean unknownOutcome = e.getOutcome() != AuditOutcome.AUDIT_OUTCOME_SUCCESS
        && e.getOutcome() != AuditOutcome.AUDIT_OUTCOME_FAILURE;
    o.put("status_id", success ? 1 : unknownOutcome ? 0 : 2);
    o.put("status", success ? "Success" : unknownOutcome ? "Unknown" : "Failure");
    if (!e.getReason().isEmpty()) {
      o.put("status_detail", e.getReason());
    }
    o.put("count", e.getCount());
    if (e.getCount() > 1) {
      o.put("start_time", millis(e.getFirstTime()));
      o.put("end_time", millis(e.getLastTime()));
    }
    ObjectNode metadata = o.putObject("metadata");
    metadata.put("version", OCSF_VERSION);
    metadata.put("uid", e.getId());
    metadata.put("log_name", "audit_events");
    metadata.put("logged_time", millis(e.getTime()));
    ObjectNode product = metadata.putObject("product");
    product.put("name", "auth-service");
    product.put("vendor_name", "auth-service");
    if (!e.getTraceId().isEmpty()) {
      // OCSF 1.4's trace profile (trace.uid), and the generic correlation id many SIEMs index
      metadata.putArray("profiles").add("trace");
      metadata.put("correlation_uid", e.getTraceId());
      o.putObject("trace").put("uid", e.getTraceId());
    }
    if (!e.getClientIp().isEmpty()) {
      o.putObject("src_endpoint").put("ip", e.getClientIp());
    }
    if (!e.getUserAgent().isEmpty()) {
      o.putObject("http_request").put("user_agent", e.getUserAgent());
    }
    ObjectNode user = JSON.createObjectNode();
    if (!e.getUsername().isEmpty()) {
      user.put("name", e.getUsername());
    }
    if (!e.getSubject().isEmpty()) {
      user.put("uid", e.getSubject());
    }
    switch (classUid) {
      case 3002 -> {
        o.set("user", user);
        o.put("auth_protocol_id", 99);
        o.put("auth_protocol", "Password");
        o.putObject("service").put("name", "auth-service");
      }
      case 2004 -> {
        ObjectNode finding = o.putObject("finding_info");
        finding.put("uid", e.getId());
        finding.put("title", e.getAlert().getRule());
        finding.put("desc", e.getAlert().getSummary());
        finding.putArray("types").add(e.getAlert().getRule());
        ArrayNode related = finding.putArray("related_events");
        e.getAlert().getEvidenceEventIdsList().forEach(id -> related.addObject().put("uid", id));
        o.put("severity_id", switch (e.getAlert().getSeverity()) {
          case "high" -> 4;
          case "medium" -> 3;
          default -> 2;
        });
        o.put("severity", switch (e.getAlert().getSeverity()) {
          case "high" -> "High";
          case "medium" -> "Medium";
          default -> "Low";
        });
        if (!user.isEmpty()) {
          o.putObject("actor").set("user", user);
        }
      }
      default -> {
        ObjectNode api = o.putObject("api");
        api.put("operation", e.getRpcMethod());
        int slash = e.getRpcMethod().indexOf('/');
        api.putObject("service").put("name", slash > 0 ? e.getRpcMethod().substring(0, slash) : "auth-service");
        ObjectNode actor = o.putObject("actor");
        ObjectNode actorUser = actor.putObject("user");
        actorUser.put("name", e.getActor().isEmpty() ? e.getUsername() : e.getActor());
        if (!e.getUsername().isEmpty() || !e.getTokenId().isEmpty()) {
          ObjectNode resource = o.putArray("resources").addObject();
          resource.put("type", e.getTokenId().isEmpty() ? "user" : "token");
          resource.put("uid", e.getTokenId().isEmpty() ? e.getUsername() : e.getTokenId());
        }
      }
    }
    if (!o.has("severity_id")) {
      boolean failure = e.getOutcome() == AuditOutcome.AUDIT_OUTCOME_FAILURE;
      o.put("severity_id", failure ? 3 : 1);
      o.put("severity", failure ? "Medium" : "Informational");
    }
    ObjectNode unmapped = o.putObject("unmapped");
    unmapped.put("type", e.getType().name());
    unmapped.put("instance", e.getInstance());
    unmapped.put("chain", e.getChain());
    unmapped.put("seq", e.getSeq());
    unmapped.put("hash", e.getHash());
    if (!e.getTokenId().isEmpty()) {
      unmapped.put("token_id", e.getTokenId());
    }
    if (!e.getPeerIdentity().isEmpty()) {
      unmapped.put("peer_identity", e.getPeerIdentity());
    }
    return o.toString();
  }

  private static int apiActivity(AuditEventType type) {
    return switch (type) {
      case AUDIT_EVENT_TYPE_TOKEN_ISSUE, AUDIT_EVENT_TYPE_TOKEN_REFRESH, AUDIT_EVENT_TYPE_USER_CREATE,
          AUDIT_EVENT_TYPE_KEY_ROTATE -> 1;
      case AUDIT_EVENT_TYPE_TOKEN_VALIDATE, AUDIT_EVENT_TYPE_AUDIT_QUERY -> 2;
      case AUDIT_EVENT_TYPE_USER_DISABLE, AUDIT_EVENT_TYPE_USER_UNLOCK -> 3;
      case AUDIT_EVENT_TYPE_TOKEN_REVOKE -> 4;
      default -> 99;
    };
  }

  private static long millis(com.google.protobuf.Timestamp ts) {
    return ts.getSeconds() * 1000 + ts.getNanos() / 1_000_000;
  }
}
