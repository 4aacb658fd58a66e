package dev.authservice.server;

import java.util.Locale;

/** How successful validations are audited: one event each, or counted per token, caller and minute. */
public enum ValidationAuditMode {
  EVERY,
  ROLLUP;

  public static ValidationAuditMode parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("AUTH_VALIDATION_AUDIT must be 'every' or 'rollup', not '" + value + "'");
    }
  }
}
