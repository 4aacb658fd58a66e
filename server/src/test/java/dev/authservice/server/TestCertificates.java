package dev.authservice.server;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throw-away PKI made at test time: a CA and certificates it signs, written as PEM files. */
final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate and its PKCS#8 key as PEM files. */
  record Issued(Path certFile, Path keyFile, String subject) {}

  private final Path dir;
  private final KeyPair caKeys;
  private final X500Name caName;
  private final Path caFile;

  TestCertificates(Path dir, String caCommonName) {
    this.dir = dir;
    this.caKeys = newKeyPair();
    this.caName = new X500Name("CN=" + caCommonName);
    X509CertificateHolder ca = sign(caName, caKeys, true, null);
    this.caFile = write(caCommonName + "-ca.pem", ca);
  }

  Path caFile() {
    return caFile;
  }

  /** A server certificate for 127.0.0.1 and localhost. */
  Issued server() {
    return issue("CN=localhost", new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
  }

  /** A client certificate with this subject. */
  Issued client(String subject) {
    return issue(subject, null);
  }

  private Issued issue(String subject, GeneralNames altNames) {
    KeyPair keys = newKeyPair();
    X509CertificateHolder cert = sign(new X500Name(subject), keys, false, altNames);
    String named = (caName + "-" + subject).replaceAll("[^A-Za-z0-9]", "_");
    // a file name has at most 255 bytes; a long subject is named by its start and its hash
    String base = named.length() <= 120 ? named
        : named.substring(0, 100) + "_" + Integer.toHexString(named.hashCode());
    Path certFile = write(base + ".pem", cert);
    Path keyFile = dir.resolve(base + "-key.pem");
    try (JcaPEMWriter pem = new JcaPEMWriter(Files.newBufferedWriter(keyFile))) {
      pem.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Issued(certFile, keyFile, subject);
  }

  private X509CertificateHolder sign(X500Name subject, KeyPair subjectKeys, boolean isCa, GeneralNames altNames) {
    Instant now = Instant.now();
    try {
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(isCa ? subject : caName,
          BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
          Date.from(now.plus(Duration.ofDays(1))), subject, subjectKeys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
      if (altNames != null) {
        builder.addExtension(Extension.subjectAlternativeName, false, altNames);
      }
      return builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate()));
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private Path write(String name, Object pemObject) {
    Path file = dir.resolve(name);
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      pem.writeObject(pemObject);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      Files.writeString(file, text.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
