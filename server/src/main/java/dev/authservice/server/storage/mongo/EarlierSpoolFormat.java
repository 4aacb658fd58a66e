package dev.authservice.server.storage.mongo;

import dev.authservice.server.audit.AuditEvent;
import org.bson.Document;

/**
 * How versions before the spool had a format of its own spooled an event: the extended JSON of
 * the document it becomes in MongoDB. Read once, when such a spool is first opened.
 */
public final class EarlierSpoolFormat {
  private EarlierSpoolFormat() {}

  public static AuditEvent read(String extendedJson) {
    return MongoAuditStore.toEvent(Document.parse(extendedJson));
  }
}
