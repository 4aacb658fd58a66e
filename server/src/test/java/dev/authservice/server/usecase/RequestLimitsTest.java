package dev.authservice.server.usecase;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.authservice.server.core.ServiceException;
import org.junit.jupiter.api.Test;

/** The size rules for what callers send: each problem names the field and the rule. */
class RequestLimitsTest {
  @Test
  void aRequiredTextMustBeThereAndNoLongerThanItsLimit() {
    assertEquals("username must not be empty", RequestLimits.required("username", "", 256));
    assertEquals("username must be at most 256 characters",
        RequestLimits.required("username", "u".repeat(257), RequestLimits.MAX_NAME_LENGTH));
    assertNull(RequestLimits.required("username", "u".repeat(256), RequestLimits.MAX_NAME_LENGTH), "the limit itself");
    assertNull(RequestLimits.required("username", "alice", RequestLimits.MAX_NAME_LENGTH));
  }

  @Test
  void anOptionalTextMayBeEmptyButNoLongerThanItsLimit() {
    assertNull(RequestLimits.optional("audience", "", RequestLimits.MAX_NAME_LENGTH));
    assertEquals("refresh_token must be at most 256 characters", RequestLimits.optional("refresh_token",
        "r".repeat(RequestLimits.MAX_REFRESH_TOKEN_LENGTH + 1), RequestLimits.MAX_REFRESH_TOKEN_LENGTH));
  }

  @Test
  void theFirstProblemIsReportedAndNoneIsNull() {
    assertEquals("b", RequestLimits.first(null, "b", "c"));
    assertNull(RequestLimits.first(null, null));
    assertNull(RequestLimits.first());
  }

  @Test
  void aProblemIsRefusedAsInvalidArgumentWithItsOwnMessage() {
    assertDoesNotThrow(() -> RequestLimits.reject(null));
    ServiceException e = assertThrows(ServiceException.class,
        () -> RequestLimits.reject("username must not be empty"));
    assertEquals(ServiceException.Kind.INVALID_ARGUMENT, e.kind());
    assertEquals("username must not be empty", e.publicMessage());
  }
}
