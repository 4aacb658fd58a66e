package dev.authservice.server.usecase;

import java.util.Set;

/** Audiences tokens may be issued for: the default one plus any explicitly allowed. */
public record AudiencePolicy(String defaultAudience, Set<String> extraAudiences) {
  public AudiencePolicy {
    extraAudiences = Set.copyOf(extraAudiences);
  }

  public boolean allowed(String audience) {
    return defaultAudience.equals(audience) || extraAudiences.contains(audience);
  }
}
