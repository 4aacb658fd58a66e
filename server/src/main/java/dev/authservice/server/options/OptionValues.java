package dev.authservice.server.options;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The value of every option of a command, each from its flag, its environment variable or its
 * default, read as the type the command asks for. A value that is not of that type is a
 * {@link UsageException} naming where it came from.
 */
public final class OptionValues {
  /** A value and where it came from: "--port", "AUTH_PORT" or "the default". */
  record Value(String text, String source) {
    /** Never the text: a value may be a password or a connection string with one. */
    @Override
    public String toString() {
      return "a value from " + source;
    }
  }

  private final Map<String, Value> byFlag;
  private final Set<String> read = new HashSet<>();
  private final boolean helpRequested;
  private final boolean versionRequested;

  OptionValues(Map<String, Value> byFlag, boolean helpRequested, boolean versionRequested) {
    this.byFlag = Map.copyOf(byFlag);
    this.helpRequested = helpRequested;
    this.versionRequested = versionRequested;
  }

  public boolean helpRequested() {
    return helpRequested;
  }

  public boolean versionRequested() {
    return versionRequested;
  }

  /** The value as given (untrimmed; empty when unset and without a default). */
  public String text(String flag) {
    return value(flag).text();
  }

  public int integer(String flag) {
    Value value = value(flag);
    try {
      return Integer.parseInt(value.text().trim());
    } catch (NumberFormatException e) {
      throw invalid(flag, value, "is not a whole number");
    }
  }

  public boolean bool(String flag) {
    Value value = value(flag);
    String text = value.text().trim();
    if (text.equalsIgnoreCase("true")) {
      return true;
    }
    if (text.equalsIgnoreCase("false")) {
      return false;
    }
    throw invalid(flag, value, "is neither true nor false");
  }

  /** An ISO-8601 duration such as PT15M or P1D, blanks around it ignored. */
  public Duration duration(String flag) {
    Value value = value(flag);
    try {
      return Duration.parse(value.text().trim());
    } catch (DateTimeParseException e) {
      throw invalid(flag, value, "is not an ISO-8601 duration such as PT15M, PT30S or P1D");
    }
  }

  /**
   * A duration that may be off: {@code 0}, {@code PT0S} (or any duration not above zero) is
   * empty, as the settings that say "0 or PT0S: only on demand" mean it.
   */
  public Optional<Duration> durationOrOff(String flag) {
    Value value = value(flag);
    if (value.text().trim().equals("0")) {
      return Optional.empty();
    }
    Duration duration = duration(flag);
    return duration.isZero() || duration.isNegative() ? Optional.empty() : Optional.of(duration);
  }

  /**
   * A file path, exactly as given: blanks around it are refused rather than trimmed, since
   * {@code "/srv/auth "} and {@code "/srv/auth"} are different directories (a different store).
   */
  public Path path(String flag) {
    Value value = value(flag);
    if (!value.text().equals(value.text().strip())) {
      throw invalid(flag, value, "has blanks around it; remove them (or name a path that has none)");
    }
    try {
      return Path.of(value.text());
    } catch (IllegalArgumentException e) {
      throw invalid(flag, value, "is not a file path");
    }
  }

  /** The flags no one has read yet: after a command read its settings, a setting it forgot. */
  public Set<String> unread() {
    Set<String> unread = new TreeSet<>(byFlag.keySet());
    unread.removeAll(read);
    return unread;
  }

  private Value value(String flag) {
    Value value = byFlag.get(flag);
    if (value == null) {
      throw new IllegalStateException("no option " + flag);   // the command's own mistake, not the user's
    }
    read.add(flag);
    return value;
  }

  private static UsageException invalid(String flag, Value value, String problem) {
    String where = value.source().startsWith("--") ? value.source() : value.source() + " (for " + flag + ")";
    return new UsageException(where + ": '" + value.text() + "' " + problem);
  }
}
