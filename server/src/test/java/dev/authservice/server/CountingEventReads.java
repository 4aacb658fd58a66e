package dev.authservice.server;

import dev.authservice.server.audit.AuditEvent;
import dev.authservice.server.audit.read.AuditFilter;
import dev.authservice.server.audit.read.AuditPosition;
import dev.authservice.server.audit.read.AuditSummary;
import dev.authservice.server.audit.read.EventReads;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** A server's own store reads, counting the chain pages a stream asks for and the events they hand it. */
final class CountingEventReads implements EventReads {
  private final EventReads store;
  private final AtomicLong pages = new AtomicLong();
  private final AtomicLong events = new AtomicLong();
  private final Map<String, AtomicLong> pagesByChain = new java.util.concurrent.ConcurrentHashMap<>();

  CountingEventReads(EventReads store) {
    this.store = store;
  }

  /** Chain pages asked for, empty ones included: one store query each. */
  long pages() {
    return pages.get();
  }

  /** Chain pages asked for of the chains whose id contains {@code part}. */
  long pagesOf(String part) {
    return pagesByChain.entrySet().stream().filter(e -> e.getKey().contains(part))
        .mapToLong(e -> e.getValue().get()).sum();
  }

  /** Events the chain pages handed out. */
  long events() {
    return events.get();
  }

  @Override
  public List<AuditEvent> find(AuditFilter filter, Optional<AuditPosition> after, int limit) {
    return store.find(filter, after, limit);
  }

  @Override
  public List<AuditSummary.Row> summarize(AuditSummary.Query query, int maxRows) {
    return store.summarize(query, maxRows);
  }

  @Override
  public Map<String, List<EventRef>> grouped(AuditFilter filter, Set<String> reasons, String groupBy, int maxEvents) {
    return store.grouped(filter, reasons, groupBy, maxEvents);
  }

  @Override
  public List<AuditEvent> findByIds(List<String> ids) {
    return store.findByIds(ids);
  }

  @Override
  public List<String> chains() {
    return store.chains();
  }

  @Override
  public List<AuditEvent> chainPage(String chain, long afterSeq, int limit) {
    pages.incrementAndGet();
    pagesByChain.computeIfAbsent(chain, c -> new AtomicLong()).incrementAndGet();
    List<AuditEvent> page = store.chainPage(chain, afterSeq, limit);
    events.addAndGet(page.size());
    return page;
  }
}
