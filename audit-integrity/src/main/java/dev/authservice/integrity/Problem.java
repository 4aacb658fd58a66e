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
  BAD_CHECKPOINT,
  /**
   * Events that cannot be linked to a signed head: in an export, events before the head their
   * chain is verified from that do not link up to it, or events that name no chain.
   */
  UNLINKED_EVENT,
  /**
   * Events no checkpoint names although a signed checkpoint made well after their time should
   * have: a chain (or the end of one) that was added to the trail after that checkpoint, with
   * times from before it.
   */
  UNVOUCHED_CHAIN
}
