package dev.authservice.server.grpc;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.authservice.server.token.VerifiedToken;
import dev.authservice.server.usecase.ExternalAuthorization;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A Check's decision as Envoy reads it. Allowed: {@code status} OK, our headers set upstream with
 * OVERWRITE_IF_EXISTS_OR_ADD (a client's own {@code x-auth-subject} is replaced, never kept beside
 * ours), every other client-sent {@code x-auth-*} header removed, optionally {@code authorization}
 * removed, and the claims as dynamic metadata. Denied: {@code status} UNAUTHENTICATED,
 * PERMISSION_DENIED or INVALID_ARGUMENT with the HTTP status always set (Envoy would say 403 to
 * everything otherwise), an RFC 6750 challenge, an {@code x-auth-failure} code and a JSON body
 * {@code {"message": "..."}} a browser client can show.
 */
final class CheckResponses {
  static final String FAILURE_HEADER = "x-auth-failure";
  /** Client-sent headers with this prefix never reach the upstream: they look like ours. */
  static final String RESERVED_PREFIX = "x-auth-";

  private final CheckHeaders settings;
  private final Set<String> ours;

  CheckResponses(CheckHeaders settings) {
    this.settings = settings;
    this.ours = Set.of(settings.subjectHeader(), settings.usernameHeader(), settings.rolesHeader());
  }

  CheckResponse allowed(VerifiedToken token, Optional<ExternalAuthorization.HttpRequest> http) {
    OkHttpResponse.Builder ok = OkHttpResponse.newBuilder()
        .addHeaders(overwrite(settings.subjectHeader(), token.subject()))
        .addHeaders(overwrite(settings.usernameHeader(), token.username()));
    Set<String> remove = new LinkedHashSet<>();
    if (token.roles().isEmpty()) {
      // Envoy may skip setting an empty value (keep_empty_value is off), which would leave a client's
      // own roles header in place: no roles is said by removing the header
      remove.add(settings.rolesHeader());
    } else {
      ok.addHeaders(overwrite(settings.rolesHeader(), String.join(",", token.roles())));
    }
    if (settings.removeAuthorization()) {
      remove.add("authorization");
    }
    // Envoy removes after it sets, so the names we set must not be in this list
    http.ifPresent(h -> h.headers().stream().map(header -> header.name().toLowerCase(Locale.ROOT))
        .filter(name -> name.startsWith(RESERVED_PREFIX) && !ours.contains(name)).forEach(remove::add));
    ok.addAllHeadersToRemove(remove);
    return CheckResponse.newBuilder()
        .setStatus(Status.newBuilder().setCode(Code.OK_VALUE))
        .setOkResponse(ok)
        .setDynamicMetadata(claims(token))
        .build();
  }

  CheckResponse denied(ExternalAuthorization.Denied denied) {
    DeniedHttpResponse.Builder response = DeniedHttpResponse.newBuilder()
        .setStatus(HttpStatus.newBuilder().setCode(httpStatus(denied.refusal())))
        .addHeaders(overwrite(FAILURE_HEADER, denied.reason()))
        .addHeaders(overwrite("content-type", "application/json"))
        .setBody(jsonBody(denied.message()));
    challenge(denied).ifPresent(value -> response.addHeaders(overwrite("www-authenticate", value)));
    return CheckResponse.newBuilder()
        .setStatus(Status.newBuilder().setCode(rpcCode(denied.refusal())).setMessage(denied.description()))
        .setDeniedResponse(response)
        .setDynamicMetadata(Struct.newBuilder().putFields("failure", string(denied.reason())))
        .build();
  }

  private static StatusCode httpStatus(ExternalAuthorization.Refusal refusal) {
    return switch (refusal) {
      case NO_TOKEN, INVALID_TOKEN -> StatusCode.Unauthorized;
      case INVALID_REQUEST, BAD_PATH -> StatusCode.BadRequest;
      case INSUFFICIENT_ROLE -> StatusCode.Forbidden;
    };
  }

  private static int rpcCode(ExternalAuthorization.Refusal refusal) {
    return switch (refusal) {
      case NO_TOKEN, INVALID_TOKEN -> Code.UNAUTHENTICATED_VALUE;
      case INVALID_REQUEST, BAD_PATH -> Code.INVALID_ARGUMENT_VALUE;
      case INSUFFICIENT_ROLE -> Code.PERMISSION_DENIED_VALUE;
    };
  }

  /** The RFC 6750 §3 challenge: none for a bad path, which is not about credentials. */
  private Optional<String> challenge(ExternalAuthorization.Denied denied) {
    String realm = "Bearer realm=\"" + settings.realm() + "\"";
    String error = switch (denied.refusal()) {
      // no credentials at all: RFC 6750 §3.1 says no error code
      case NO_TOKEN -> null;
      case INVALID_REQUEST -> "invalid_request";
      case INVALID_TOKEN -> "invalid_token";
      case INSUFFICIENT_ROLE -> "insufficient_scope";
      case BAD_PATH -> "";
    };
    if (error == null) {
      return Optional.of(realm);
    }
    if (error.isEmpty()) {
      return Optional.empty();
    }
    String challenge = realm + ", error=\"" + error + "\", error_description=\"" + quotable(denied.description()) + "\"";
    if (!denied.roles().isEmpty()) {
      challenge += ", scope=\"" + String.join(" ", denied.roles()) + "\"";
    }
    return Optional.of(challenge);
  }

  private static Struct claims(VerifiedToken token) {
    return Struct.newBuilder()
        .putFields("sub", string(token.subject()))
        .putFields("username", string(token.username()))
        .putFields("roles", list(token.roles()))
        .putFields("jti", string(token.tokenId()))
        .putFields("iss", string(token.issuer()))
        .putFields("aud", list(token.audience()))
        .putFields("iat", Value.newBuilder().setNumberValue(token.issuedAt().getEpochSecond()).build())
        .putFields("exp", Value.newBuilder().setNumberValue(token.expiresAt().getEpochSecond()).build())
        .build();
  }

  private static Value string(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }

  private static Value list(Collection<String> values) {
    ListValue.Builder list = ListValue.newBuilder();
    values.forEach(v -> list.addValues(string(v)));
    return Value.newBuilder().setListValue(list).build();
  }

  /**
   * Replaces whatever the request or response has under this name. The deprecated {@code append}
   * stays unset: Envoy versions before {@code append_action} read an unset one as "set", later ones
   * read this action.
   */
  private static HeaderValueOption overwrite(String name, String value) {
    return HeaderValueOption.newBuilder()
        .setHeader(HeaderValue.newBuilder().setKey(name).setValue(headerSafe(value)))
        .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
        .build();
  }

  /**
   * Header values are visible ASCII and spaces: anything else (a control character could split a
   * header) is percent-encoded as UTF-8, as is {@code %} then. Our claims never need it; this is
   * the guarantee, not the rule.
   */
  static String headerSafe(String value) {
    if (value.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      return value;
    }
    StringBuilder out = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c > 0x20 && c < 0x7f && c != '%') {
        out.append((char) c);
      } else {
        out.append('%').append(String.format("%02X", c));
      }
    }
    return out.toString();
  }

  /** {@code {"message": "..."}}: the message is our own text, escaped all the same. */
  static String jsonBody(String message) {
    StringBuilder json = new StringBuilder("{\"message\": \"");
    for (int i = 0; i < message.length(); i++) {
      char c = message.charAt(i);
      if (c == '"' || c == '\\') {
        json.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        json.append(String.format("\\u%04x", (int) c));
      } else {
        json.append(c);
      }
    }
    return json.append("\"}\n").toString();
  }

  /** Text for a quoted-string: no quotes, backslashes or controls. */
  private static String quotable(String text) {
    return text.replaceAll("[\"\\\\]", "'").replaceAll("[^\\x20-\\x7e]", "?");
  }
}
