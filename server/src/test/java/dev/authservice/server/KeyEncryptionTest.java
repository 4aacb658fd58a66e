package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.proto.auth.v1.ValidateRequest;
import dev.authservice.server.keys.SigningAlgorithm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Optional;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Private keys at rest: AES-GCM under the key-encryption key, and a clear refusal without it. */
class KeyEncryptionTest {
  private static byte[] randomKek() {
    byte[] kek = new byte[32];
    new SecureRandom().nextBytes(kek);
    return kek;
  }

  private static KeySettings withKek(byte[] kek) {
    return new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.of(kek), false);
  }

  @Test
  void keysAreStoredEncryptedAndTheServerRefusesToStartWithoutTheKek() {
    byte[] kek = randomKek();
    try (TestServer server = TestServer.start(b -> b.keys(withKek(kek)))) {
      Document stored = server.database().getCollection("signing_keys").find().first();
      assertTrue(stored.containsKey("private_key_sealed"));
      assertFalse(stored.containsKey("private_key_pkcs8"), "no plaintext private key");
      String token = server.adminToken();

      server.stopServer();
      IllegalStateException noKek = assertThrows(IllegalStateException.class,
          () -> server.sibling(b -> b.keys(new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.empty(), false)),
              Clock.systemUTC()));
      assertTrue(noKek.getMessage().contains("AUTH_KEY_ENCRYPTION_KEY"), noKek.getMessage());
      IllegalStateException devKeys = assertThrows(IllegalStateException.class,
          () -> server.sibling(b -> b.keys(KeySettings.DEV), Clock.systemUTC()));
      assertTrue(devKeys.getMessage().contains("AUTH_KEY_ENCRYPTION_KEY"), "insecure dev mode cannot read encrypted keys either");
      IllegalStateException wrongKek = assertThrows(IllegalStateException.class,
          () -> server.sibling(b -> b.keys(withKek(randomKek())), Clock.systemUTC()));
      assertTrue(wrongKek.getMessage().contains("not the key it was written with"), wrongKek.getMessage());

      try (TestServer again = server.sibling(b -> b.keys(withKek(kek)), Clock.systemUTC())) {
        assertTrue(again.auth().validate(ValidateRequest.newBuilder().setToken(token).build()).getActive(),
            "with the right KEK the same key verifies the old token");
      }
    }
  }

  @Test
  void anEmptyStoreWithoutKekOrDevModeRefusesToGenerateKeys() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestServer.start(
        b -> b.keys(new KeySettings(SigningAlgorithm.RS256, Optional.empty(), Optional.empty(), false))));
    assertTrue(e.getMessage().contains("AUTH_INSECURE_DEV_KEYS=true"), e.getMessage());
  }

  @Test
  void theKekComesFromTheVariableOrAFileAndMustBe32Bytes(@TempDir Path dir) throws Exception {
    byte[] kek = randomKek();
    String base64 = Base64.getEncoder().encodeToString(kek);
    assertEquals(32, KeyEncryptionKeys.load(Optional.of(base64), Optional.empty()).orElseThrow().length);
    Path file = dir.resolve("kek");
    Files.writeString(file, base64 + "\n");
    assertTrue(java.util.Arrays.equals(kek, KeyEncryptionKeys.load(Optional.empty(), Optional.of(file)).orElseThrow()));
    assertTrue(KeyEncryptionKeys.load(Optional.empty(), Optional.empty()).isEmpty());
    assertThrows(IllegalArgumentException.class,
        () -> KeyEncryptionKeys.load(Optional.of(Base64.getEncoder().encodeToString(new byte[16])), Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> KeyEncryptionKeys.load(Optional.of("not base64!"), Optional.empty()));
    assertThrows(IllegalArgumentException.class, () -> KeyEncryptionKeys.load(Optional.of(base64), Optional.of(file)));
  }
}
