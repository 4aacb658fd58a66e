package dev.authservice.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import java.util.concurrent.Executor;

/**
 * Sends {@code authorization: Bearer <token>} with each call. Credentials run just before each
 * RPC and see the transport's security level, so the token is never sent over an unencrypted
 * channel unless the client was deliberately built for plaintext (loopback, or a sidecar).
 */
public final class BearerToken extends CallCredentials {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String token;
  private final boolean allowPlaintext;

  /**
   * @param token the access token
   * @param allowPlaintext whether the token may travel over a channel without TLS
   */
  public BearerToken(String token, boolean allowPlaintext) {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("bearer token must not be empty");
    }
    this.token = token.trim();
    this.allowPlaintext = allowPlaintext;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    if (info.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY && !allowPlaintext) {
      applier.fail(Status.UNAUTHENTICATED.withDescription(
          "refusing to send a bearer token over a channel without TLS; build the client with plaintext()"
              + " only for loopback or a trusted sidecar"));
      return;
    }
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + token);
    applier.apply(headers);
  }

  @Override
  public String toString() {
    return "BearerToken[redacted]";
  }
}
