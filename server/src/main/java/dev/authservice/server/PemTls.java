package dev.authservice.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A JDK {@link SSLContext} from the same PEM files the gRPC port uses (certificate chain and
 * PKCS#8 key), for the public HTTP listener. No client certificates are asked for there: the JWK
 * Set and the metadata are public.
 */
final class PemTls {
  private static final List<String> KEY_TYPES = List.of("RSA", "EC", "Ed25519", "EdDSA");

  private PemTls() {}

  static SSLContext serverContext(TlsSettings tls) {
    try {
      Certificate[] chain;
      try (InputStream in = Files.newInputStream(tls.certFile().orElseThrow())) {
        chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(Certificate[]::new);
      }
      if (chain.length == 0) {
        throw new IllegalArgumentException("no certificate in " + tls.certFile().get());
      }
      PrivateKey key = privateKey(tls.keyFile().orElseThrow());
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      char[] password = new char[0];
      store.setKeyEntry("server", key, password, chain);
      KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot use AUTH_TLS_CERT_FILE and AUTH_TLS_KEY_FILE for HTTPS: " + e, e);
    }
  }

  private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new GeneralSecurityException("the key file holds no PEM PKCS#8 'PRIVATE KEY'");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
    for (String type : KEY_TYPES) {
      try {
        return KeyFactory.getInstance(type).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // another type
      }
    }
    throw new GeneralSecurityException("the PKCS#8 key is none of " + KEY_TYPES);
  }
}
