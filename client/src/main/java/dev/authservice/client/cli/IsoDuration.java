package dev.authservice.client.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import picocli.CommandLine;

/** ISO-8601 durations on the command line: PT1H, P7D, PT30S. */
final class IsoDuration implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      Duration d = Duration.parse(value.trim().toUpperCase(java.util.Locale.ROOT));
      if (d.isNegative()) {
        throw new CommandLine.TypeConversionException("'" + value + "' must not be negative");
      }
      return d;
    } catch (DateTimeParseException e) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not an ISO-8601 duration such as PT1H or P7D");
    }
  }
}
