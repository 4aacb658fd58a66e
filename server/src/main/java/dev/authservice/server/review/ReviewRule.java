package dev.authservice.server.review;

import dev.authservice.server.audit.read.EventReads;
import java.util.List;

/** One rule of the review: what it looks for in the events of a window. */
interface ReviewRule {
  List<Finding> find(ReviewWindow window, EventReads events);
}
