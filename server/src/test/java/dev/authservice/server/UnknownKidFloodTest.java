package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.KeyAdminServiceGrpc;
import dev.authservice.proto.auth.v1.RotateSigningKeyRequest;
import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.proto.auth.v1.ValidateResponse;
import dev.authservice.proto.auth.v1.ValidationFailure;
import java.security.PrivateKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The attack: a caller floods Validate with tokens naming made-up key ids, each of which makes the
 * instance look in the store for a key rotated elsewhere. Meanwhile another instance rotates its
 * signing key at once (as after a compromise) and signs with the new key. Its tokens must still
 * validate here at once: the flood may not use up what a real key id needs.
 */
class UnknownKidFloodTest {
  @Test
  void madeUpKeyIdsDoNotKeepAKeyRotatedElsewhereFromValidating() throws Exception {
    try (TestServer server = TestServer.start();
        TestServer other = server.sibling(b -> b, Clock.systemUTC())) {
      Tokens.ServerKey key = Tokens.serverKey(server.database());
      PrivateKey stranger = Tokens.otherKeyPair(key.alg()).getPrivate();
      String admin = other.adminToken();
      AtomicBoolean flooding = new AtomicBoolean(true);
      AtomicInteger sent = new AtomicInteger();
      try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
        List<Future<?>> flood = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          flood.add(pool.submit(() -> {
            while (flooding.get()) {
              String token = Tokens.sign(Tokens.header(key.alg(), "at+jwt", UUID.randomUUID().toString()),
                  Tokens.claims(server.config().issuer(), server.config().defaultAudience()), stranger);
              try {
                ValidateResponse answer = server.auth().withDeadlineAfter(10, TimeUnit.SECONDS)
                    .validate(ValidateRequest.newBuilder().setToken(token).build());
                assertEquals(ValidationFailure.VALIDATION_FAILURE_UNKNOWN_KEY, answer.getFailure());
              } catch (io.grpc.StatusRuntimeException e) {
                // a made-up id's lookup may wait out its 2 s on a busy machine: undecided, not wrong
                assertEquals(io.grpc.Status.Code.UNAVAILABLE, e.getStatus().getCode());
              }
              sent.incrementAndGet();
            }
          }));
        }
        try {
          Thread.sleep(500);
          for (int round = 0; round < 5; round++) {
            String rotated = TestServer.withBearer(KeyAdminServiceGrpc.newBlockingStub(other.channel()), admin)
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .rotateSigningKey(RotateSigningKeyRequest.getDefaultInstance()).getKid();
            String token = other.login(TestServer.ADMIN, TestServer.ADMIN_PASSWORD).getAccessToken();
            assertEquals(rotated, Tokens.decodePart(token, 0).get("kid"));
            ValidateResponse answer = server.auth().withDeadlineAfter(10, TimeUnit.SECONDS)
                .validate(ValidateRequest.newBuilder().setToken(token).build());
            assertTrue(answer.getActive(), "round " + round + ": a token of a key rotated on the other instance,"
                + " during the flood: " + answer.getFailure());
          }
        } finally {
          flooding.set(false);
        }
        for (Future<?> f : flood) {
          f.get();
        }
      }
      assertTrue(sent.get() > 100, "the flood ran: " + sent.get() + " made-up ids");
    }
  }
}
