package dev.authservice.server.usecase;

import dev.authservice.server.audit.chain.AuditSigner;
import dev.authservice.server.keys.JwkSet;
import dev.authservice.server.review.SuspiciousActivityReview;

/**
 * What the service does, as the transport calls it: each use case records its own audit events.
 * The public keys and the review are read as they are.
 */
public record UseCases(
    LoginService logins,
    ValidationService validation,
    UserAdministration accounts,
    KeyAdministration keyAdministration,
    TrailReading trail,
    Authorization authorization,
    SuspiciousActivityReview review,
    JwkSet tokenKeys,
    AuditSigner auditKeys,
    ExternalAuthorization externalAuthorization) {}
