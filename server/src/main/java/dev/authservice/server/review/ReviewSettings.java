package dev.authservice.server.review;

import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;

/**
 * The review's schedule and each rule's thresholds. A rule set to {@code off} does not run.
 *
 * @param schedule a five-field cron expression in UTC, or empty for no scheduled review
 * @param maxEvents events one rule holds in memory for one review; past that the later ones are not examined
 */
public record ReviewSettings(
    Optional<String> schedule,
    Optional<Threshold> failedLoginBurst,
    Optional<Threshold> credentialStuffing,
    Optional<Threshold> successAfterFailures,
    Optional<History> newAddress,
    Optional<Threshold> tokenForgery,
    boolean revokedTokenUse,
    Optional<Hours> adminHours,
    int maxEvents) {
  public static final int DEFAULT_MAX_EVENTS = 200_000;

  public ReviewSettings {
    if (maxEvents < 1) {
      throw new IllegalArgumentException("AUTH_REVIEW_MAX_EVENTS must be at least 1");
    }
  }

  public ReviewSettings(Optional<String> schedule, Optional<Threshold> failedLoginBurst,
      Optional<Threshold> credentialStuffing, Optional<Threshold> successAfterFailures, Optional<History> newAddress,
      Optional<Threshold> tokenForgery, boolean revokedTokenUse, Optional<Hours> adminHours) {
    this(schedule, failedLoginBurst, credentialStuffing, successAfterFailures, newAddress, tokenForgery,
        revokedTokenUse, adminHours, DEFAULT_MAX_EVENTS);
  }

  /** At least {@code count} within {@code within}. */
  public record Threshold(int count, Duration within) {
    public Threshold {
      if (count < 1 || within.isNegative() || within.isZero()) {
        throw new IllegalArgumentException("a threshold needs a count of at least 1 and a positive duration");
      }
    }
  }

  /** Compare with the previous {@code size} successful logins, for users with at least {@code minimum}. */
  public record History(int size, int minimum) {
    public History {
      if (size < 1 || minimum < 1 || minimum > size) {
        throw new IllegalArgumentException("history needs 1 <= minimum <= size");
      }
    }
  }

  /** The UTC hours in which admin actions are expected: [from, to). */
  public record Hours(LocalTime from, LocalTime to) {
    public boolean contains(LocalTime time) {
      return from.isBefore(to) ? !time.isBefore(from) && time.isBefore(to) : !time.isBefore(from) || time.isBefore(to);
    }
  }

  public static final ReviewSettings DEFAULTS = new ReviewSettings(Optional.of("0 2 * * *"),
      Optional.of(new Threshold(10, Duration.ofMinutes(5))), Optional.of(new Threshold(5, Duration.ofMinutes(5))),
      Optional.of(new Threshold(5, Duration.ofMinutes(10))), Optional.of(new History(20, 5)),
      Optional.of(new Threshold(3, Duration.ofMinutes(5))), true, Optional.empty());

  private static boolean off(String value) {
    return value.isBlank() || value.trim().equalsIgnoreCase("off");
  }

  /** {@code COUNT/DURATION}, e.g. {@code 10/PT5M}, or {@code off}. */
  public static Optional<Threshold> threshold(String name, String value) {
    if (off(value)) {
      return Optional.empty();
    }
    String[] parts = value.trim().split("/");
    try {
      return Optional.of(new Threshold(Integer.parseInt(parts[0].trim()),
          Duration.parse(parts[1].trim().toUpperCase(Locale.ROOT))));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(name + " must be COUNT/DURATION such as 10/PT5M, or off; got '" + value + "'");
    }
  }

  /** {@code SIZE/MINIMUM}, e.g. {@code 20/5}, or {@code off}. */
  public static Optional<History> history(String name, String value) {
    if (off(value)) {
      return Optional.empty();
    }
    String[] parts = value.trim().split("/");
    try {
      return Optional.of(new History(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim())));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(name + " must be SIZE/MINIMUM such as 20/5, or off; got '" + value + "'");
    }
  }

  /** {@code HH:MM-HH:MM} in UTC, e.g. {@code 08:00-18:00}, or {@code off}. */
  public static Optional<Hours> hours(String name, String value) {
    if (off(value)) {
      return Optional.empty();
    }
    String[] parts = value.trim().split("-");
    try {
      return Optional.of(new Hours(LocalTime.parse(parts[0].trim()), LocalTime.parse(parts[1].trim())));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(name + " must be HH:MM-HH:MM in UTC such as 08:00-18:00, or off; got '"
          + value + "'");
    }
  }

  public static boolean onOff(String name, String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "on", "true" -> true;
      case "off", "false" -> false;
      default -> throw new IllegalArgumentException(name + " must be on or off; got '" + value + "'");
    };
  }
}
