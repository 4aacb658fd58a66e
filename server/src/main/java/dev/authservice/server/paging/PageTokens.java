package dev.authservice.server.paging;

import dev.authservice.server.core.ServiceException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opaque AIP-158 page tokens: the position where the last page ended, bound to the RPC and the
 * exact filters it was issued for, and authenticated with HMAC-SHA256 under a secret every
 * instance shares. An altered token, or one replayed with other filters, is INVALID_ARGUMENT.
 *
 * <p>A position is either a few short strings (version 1) or bytes the caller encodes itself
 * (version 2). Either way a token is at most {@link #MAX_TOKEN_LENGTH} characters: a position
 * that would not fit is a bug, refused here rather than issued as a token no server accepts.
 */
public final class PageTokens {
  private static final int VERSION = 1;
  private static final int BINARY_VERSION = 2;
  private static final int MAC_LENGTH = 32;
  public static final int MAX_TOKEN_LENGTH = 2048;
  private static final int MAX_PARTS = 255;

  /** What a token holds: the strings of {@link #encode} or the bytes of {@link #encodeBytes}. */
  public sealed interface Position permits Parts, Binary {}

  public record Parts(List<String> parts) implements Position {}

  public record Binary(byte[] bytes) implements Position {}

  /**
   * The request field a token came in, named in the error for a bad one: StreamAudit's callers
   * pass a {@code resume_token}, and an error about {@code page_token} sent them looking for a
   * field their request does not have.
   */
  public record TokenField(String name, String howToPass, String whatMustMatch) {
    public static final TokenField PAGE_TOKEN = new TokenField("page_token",
        "pass next_page_token from the previous response unchanged", "filters");
    public static final TokenField RESUME_TOKEN = new TokenField("resume_token",
        "pass a resume_token from this stream unchanged", "filters, follow and from_checkpoints");

    /** The error for a token that is not one this server issued. */
    public String notValid() {
      return name + " is not valid: " + howToPass;
    }
  }

  private final SecretKeySpec key;

  public PageTokens(byte[] secret) {
    if (secret.length < 32) {
      throw new IllegalArgumentException("page token secret must be at least 32 bytes");
    }
    this.key = new SecretKeySpec(secret.clone(), "HmacSHA256");
  }

  public String encode(String scope, String filter, List<String> position) {
    if (position.size() > MAX_PARTS) {
      throw new IllegalArgumentException("a page token holds at most " + MAX_PARTS + " parts");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeUTF(scope);
      out.write(sha256(filter));
      out.writeByte(position.size());
      for (String part : position) {
        out.writeUTF(part);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return seal(bytes.toByteArray());
  }

  /** A token holding bytes the caller encodes; {@link #decodeAny} gives them back. */
  public String encodeBytes(String scope, String filter, byte[] position) {
    return binarySealer(scope, filter).seal(position);
  }

  /**
   * Seals many positions for one scope and filter, as {@link #encodeBytes} does, without hashing
   * the filter and looking up the MAC again for each: a stream issues a token with every event.
   * Not thread-safe (it keeps its MAC); one per stream.
   */
  public BinarySealer binarySealer(String scope, String filter) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(BINARY_VERSION);
      out.writeUTF(scope);
      out.write(sha256(filter));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return new BinarySealer(bytes.toByteArray(), newMac());
  }

  /** Tokens of one scope and filter holding bytes; from {@link #binarySealer}. */
  public static final class BinarySealer {
    private final byte[] header;
    private final Mac mac;

    private BinarySealer(byte[] header, Mac mac) {
      this.header = header;
      this.mac = mac;
    }

    /** The same token as {@link #encodeBytes} with this sealer's scope and filter. */
    public String seal(byte[] position) {
      byte[] token = new byte[header.length + position.length + MAC_LENGTH];
      System.arraycopy(header, 0, token, 0, header.length);
      System.arraycopy(position, 0, token, header.length, position.length);
      mac.update(token, 0, header.length + position.length);
      try {
        mac.doFinal(token, header.length + position.length);
      } catch (javax.crypto.ShortBufferException e) {
        throw new IllegalStateException(e);
      }
      return encodeChecked(token);
    }
  }

  private String seal(byte[] payload) {
    byte[] token = Arrays.copyOf(payload, payload.length + MAC_LENGTH);
    System.arraycopy(mac(payload), 0, token, payload.length, MAC_LENGTH);
    return encodeChecked(token);
  }

  private static String encodeChecked(byte[] token) {
    String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(token);
    if (encoded.length() > MAX_TOKEN_LENGTH) {
      throw new IllegalStateException("a page token of " + encoded.length() + " characters would be refused");
    }
    return encoded;
  }

  /** The position in a token, or INVALID_ARGUMENT if it is altered or from another query. */
  public List<String> decode(String scope, String filter, String token) {
    if (decodeAny(TokenField.PAGE_TOKEN, scope, filter, token) instanceof Parts parts) {
      return parts.parts();
    }
    throw invalid(TokenField.PAGE_TOKEN);
  }

  /**
   * The position in a token of either kind, or INVALID_ARGUMENT naming {@code field} if it is
   * altered or from another query.
   */
  public Position decodeAny(TokenField field, String scope, String filter, String token) {
    byte[] raw;
    try {
      if (token.length() > MAX_TOKEN_LENGTH) {
        throw invalid(field);
      }
      raw = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw invalid(field);
    }
    if (raw.length <= MAC_LENGTH) {
      throw invalid(field);
    }
    byte[] payload = Arrays.copyOf(raw, raw.length - MAC_LENGTH);
    byte[] givenMac = Arrays.copyOfRange(raw, raw.length - MAC_LENGTH, raw.length);
    if (!MessageDigest.isEqual(mac(payload), givenMac)) {
      throw invalid(field);
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      int version = in.readByte();
      if ((version != VERSION && version != BINARY_VERSION) || !scope.equals(in.readUTF())) {
        throw invalid(field);
      }
      byte[] filterHash = in.readNBytes(32);
      if (!MessageDigest.isEqual(filterHash, sha256(filter))) {
        throw ServiceException.invalid(field.name() + " was issued for different " + field.whatMustMatch()
            + "; repeat the first request's " + field.whatMustMatch() + " or start again without " + field.name());
      }
      if (version == BINARY_VERSION) {
        return new Binary(in.readAllBytes());
      }
      int count = in.readUnsignedByte();
      List<String> position = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        position.add(in.readUTF());
      }
      if (in.available() > 0) {
        throw invalid(field);
      }
      return new Parts(position);
    } catch (IOException e) {
      throw invalid(field);
    }
  }

  private static ServiceException invalid(TokenField field) {
    return ServiceException.invalid(field.notValid());
  }

  private byte[] mac(byte[] payload) {
    return newMac().doFinal(payload);
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
