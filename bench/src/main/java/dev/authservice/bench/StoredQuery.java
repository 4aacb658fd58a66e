package dev.authservice.bench;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import java.util.regex.Pattern;
import org.bson.Document;

/**
 * The QueryAudit of the QUERY_AUDIT scenario, over events an earlier run seeded: a restarted
 * server is queried cold (./dev bench's cold-start rows) for the username that run seeded (its
 * events are 2% of the seeded ones), found in the store, not seeded again.
 */
record StoredQuery(QueryAuditRequest request, String note) {
  private static final Pattern SEEDED_USERNAME = Pattern.compile("^bench-query-");

  static StoredQuery find(String storeUri, String database) {
    if (storeUri == null) {
      throw new IllegalArgumentException("QUERY_AUDIT_STORED needs --store-uri or --store-uri-file");
    }
    try (MongoClient client = MongoClients.create(storeUri)) {
      var events = client.getDatabase(database).getCollection("audit_events");
      Document seeded = events.find(Filters.regex("username", SEEDED_USERNAME)).first();
      if (seeded == null) {
        throw new IllegalStateException("no events of a QUERY_AUDIT run in the store: run that scenario first");
      }
      QueryAuditRequest request = QueryAuditRequest.newBuilder().setUsername(seeded.getString("username"))
          .addTypes(AuditEventType.AUDIT_EVENT_TYPE_LOGIN).setPageSize(100).build();
      return new StoredQuery(request, "page of 100, " + events.estimatedDocumentCount() + " events stored");
    }
  }
}
