package dev.authservice.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.HdrHistogram.Histogram;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Sign and verify cost of the JWS algorithms a signing key may have, with the JDK's providers
 * and with Bouncy Castle, on a message the size of an access token's signing input. The
 * default algorithm is chosen from these figures.
 */
@Command(name = "signatures", description = "Measure RS256, ES256 and EdDSA sign/verify, JDK vs Bouncy Castle.")
final class SignatureBench implements Callable<Integer> {
  @Option(names = "--iterations", defaultValue = "3000", description = "Timed verifications per case.") int iterations;
  @Option(names = "--json", defaultValue = "target/bench-signatures.json") Path json;

  record Case(String jws, String keyAlgorithm, String jca) {}

  record Result(String jws, String provider, double signMicros, double verifyP50Micros, double verifyP99Micros,
      double verifyMeanMicros) {}

  @Override
  public Integer call() throws Exception {
    byte[] message = new byte[420];
    new SecureRandom().nextBytes(message);
    List<Result> results = new ArrayList<>();
    for (Case c : List.of(new Case("RS256", "RSA", "SHA256withRSA"), new Case("ES256", "EC", "SHA256withECDSA"),
        new Case("EdDSA", "Ed25519", "Ed25519"))) {
      for (Provider provider : new Provider[] {null, new BouncyCastleProvider()}) {
        results.add(measure(c, provider, message));
      }
    }
    StringBuilder table = new StringBuilder("| alg | provider | sign µs (mean) | verify µs p50 | verify µs p99 | verify µs mean |\n"
        + "|---|---|---:|---:|---:|---:|\n");
    StringBuilder out = new StringBuilder("[");
    for (Result r : results) {
      table.append(String.format("| %s | %s | %.0f | %.0f | %.0f | %.0f |%n", r.jws(), r.provider(), r.signMicros(),
          r.verifyP50Micros(), r.verifyP99Micros(), r.verifyMeanMicros()));
      out.append(out.length() > 1 ? "," : "").append(String.format(
          "{\"alg\":\"%s\",\"provider\":\"%s\",\"sign_mean_us\":%.1f,\"verify_p50_us\":%.1f,\"verify_p99_us\":%.1f,\"verify_mean_us\":%.1f}",
          r.jws(), r.provider(), r.signMicros(), r.verifyP50Micros(), r.verifyP99Micros(), r.verifyMeanMicros()));
    }
    System.out.print(table);
    Files.createDirectories(json.toAbsolutePath().getParent());
    Files.writeString(json, out.append("]\n").toString(), StandardCharsets.UTF_8);
    return 0;
  }

  private Result measure(Case c, Provider provider, byte[] message) throws Exception {
    KeyPairGenerator generator = provider == null ? KeyPairGenerator.getInstance(c.keyAlgorithm())
        : KeyPairGenerator.getInstance(c.keyAlgorithm(), provider);
    switch (c.keyAlgorithm()) {
      case "RSA" -> generator.initialize(2048);
      case "EC" -> generator.initialize(new ECGenParameterSpec("secp256r1"));
      default -> { }
    }
    KeyPair keys = generator.generateKeyPair();
    Signature signer = provider == null ? Signature.getInstance(c.jca()) : Signature.getInstance(c.jca(), provider);
    Signature verifier = provider == null ? Signature.getInstance(c.jca()) : Signature.getInstance(c.jca(), provider);
    int signs = Math.max(100, iterations / 10);
    byte[] signature = null;
    for (int i = 0; i < signs; i++) {
      signer.initSign(keys.getPrivate());
      signer.update(message);
      signature = signer.sign();
    }
    long start = System.nanoTime();
    for (int i = 0; i < signs; i++) {
      signer.initSign(keys.getPrivate());
      signer.update(message);
      signature = signer.sign();
    }
    double signMicros = (System.nanoTime() - start) / 1000.0 / signs;
    Histogram verify = new Histogram(3);
    for (int round = 0; round < 2; round++) {
      verify.reset();
      for (int i = 0; i < iterations; i++) {
        long t = System.nanoTime();
        verifier.initVerify(keys.getPublic());
        verifier.update(message);
        if (!verifier.verify(signature)) {
          throw new IllegalStateException("signature did not verify");
        }
        verify.recordValue(System.nanoTime() - t);
      }
    }
    return new Result(c.jws(), provider == null ? "JDK" : "BC", signMicros,
        verify.getValueAtPercentile(50) / 1000.0, verify.getValueAtPercentile(99) / 1000.0, verify.getMean() / 1000.0);
  }
}
