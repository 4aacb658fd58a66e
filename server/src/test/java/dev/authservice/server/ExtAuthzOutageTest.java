package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.rpc.Code;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/**
 * The store goes away. Check keeps answering what it can decide from memory (as Validate does);
 * a token naming a key this instance does not hold cannot be decided (the key may have been
 * rotated by another instance, and only the store has it), so the answer is an RPC error, for
 * Envoy's failure_mode_allow to decide, never a 401 for our own fault.
 */
class ExtAuthzOutageTest {
  private static String unknownKeyToken(TestServer server, Tokens.ServerKey key, String kid) {
    return Tokens.sign(Tokens.header(key.alg(), "at+jwt", kid),
        Tokens.claims(server.config().issuer(), server.config().defaultAudience()),
        Tokens.otherKeyPair(key.alg()).getPrivate());
  }

  @Test
  void aKeyReloadNeededWhileTheStoreIsDownIsAnErrorNotADenial() throws Exception {
    try (TestServer server = TestServer.start()) {
      assumeTrue(server.store().restartable(), "needs the embedded store, which the test can stop");
      String token = server.adminToken();
      Tokens.ServerKey key = Tokens.serverKey(server.database());
      // signed by a key the server has never seen, under a kid it does not hold: what a token from a
      // key rotated on another instance looks like to this one (a kid of its own for each phase: a kid
      // found unknown is not looked up again within a second)
      CheckRequest unknownWhileUp = EnvoyChecks.get("/").bearer(unknownKeyToken(server, key, "rotated-elsewhere-1"))
          .build();
      CheckRequest unknown = EnvoyChecks.get("/").bearer(unknownKeyToken(server, key, "rotated-elsewhere-2")).build();

      CheckResponse decided = EnvoyChecks.stub(server).check(unknownWhileUp);
      assertEquals(Code.UNAUTHENTICATED_VALUE, decided.getStatus().getCode(), "with the store up: truly unknown");
      assertEquals("UNKNOWN_KEY", EnvoyChecks.deniedHeader(decided, "x-auth-failure"));

      server.store().stopStore();
      try {
        assertEquals(Code.OK_VALUE, EnvoyChecks.stub(server).check(EnvoyChecks.get("/").bearer(token).build())
            .getStatus().getCode(), "a known token is decided from memory");
        StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
            () -> EnvoyChecks.stub(server).check(unknown));
        assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
      } finally {
        server.store().restartStore();
      }
      Await.until("decided again once the store is back", 30, () -> {
        try {
          return EnvoyChecks.stub(server).check(unknown).getStatus().getCode() == Code.UNAUTHENTICATED_VALUE;
        } catch (StatusRuntimeException e) {
          return false;
        }
      });
    }
  }
}
