package dev.authservice.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code auth-bench}: the measurements behind the figures in docs/benchmarks.md, docs/tokens.md
 * (signature algorithms) and docs/operations.md (login timing).
 */
@Command(name = "auth-bench", mixinStandardHelpOptions = true,
    description = "Benchmarks of the auth service. Each prints a Markdown table and writes JSON.",
    subcommands = {SignatureBench.class, LoginTimingBench.class, LoadBench.class, InstancesBench.class, WaitServing.class,
        AotTraining.class})
public final class Bench {
  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }
}
