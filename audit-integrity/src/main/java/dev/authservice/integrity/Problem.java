package dev.authservice.integrity;

/** What is wrong with a chain; mirrors auth.v1.AuditProblem. */
public enum Problem {
  /** A field of an event no longer matches the event's hash, or a signed checkpoint's hash for it. */
  HASH_MISMATCH,
  /** A sequence number has no event. */
  MISSING_EVENT,
  /** An event's hash matches its content at another sequence number: events were moved. */
  OUT_OF_ORDER,
  /** A checkpoint covered events that are gone from the end of the chain. */
  CHAIN_TRUNCATED,
  /** A checkpoint names the chain, but it has no events left. */
  CHAIN_MISSING,
  /** A checkpoint's signature or content does not verify, or the checkpoint before it is gone. */
  BAD_CHECKPOINT
}
