package dev.authservice.server.review;

import dev.authservice.server.audit.AuditStore;
import java.util.List;

/** One rule of the review: what it looks for in the events of a window. */
interface ReviewRule {
  List<Finding> find(ReviewWindow window, AuditStore events);
}
