package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "keys", description = "Signing key administration (role admin).", subcommands = KeysCommand.Rotate.class)
final class KeysCommand {
  @ParentCommand AuthCtl root;

  @Command(name = "rotate", description = "Make a new token signing key (or, with --audit, audit checkpoint"
      + " signing key) active now; prints the result as JSON.")
  static final class Rotate implements Callable<Integer> {
    @ParentCommand KeysCommand keys;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--audit", description = "Rotate the audit checkpoint signing key instead; earlier audit keys"
        + " keep verifying the checkpoints they signed.")
    boolean audit;

    @Override
    public Integer call() {
      try (AuthClient client = keys.root.connect()) {
        spec.commandLine().getOut().println(audit ? EventFormat.json(client.rotateAuditSigningKey())
            : EventFormat.json(client.rotateSigningKey()));
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
      }
    }
  }
}
