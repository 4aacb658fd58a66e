package dev.authservice.server.grpc;

import java.util.Set;

/** Audiences tokens may be issued for: the default one plus any explicitly allowed. */
record AudiencePolicy(String defaultAudience, Set<String> extraAudiences) {
  boolean allowed(String audience) {
    return defaultAudience.equals(audience) || extraAudiences.contains(audience);
  }
}
