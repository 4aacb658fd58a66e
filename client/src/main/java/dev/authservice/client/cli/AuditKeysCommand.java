package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "keys", description = "Print the audit checkpoint public keys (a JWK Set) for offline verification.")
final class AuditKeysCommand implements Callable<Integer> {
  @ParentCommand AuditCommand audit;
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    try (AuthClient client = audit.root.connect()) {
      spec.commandLine().getOut().println(client.auditKeys());
      return ExitCodes.OK;
    }
  }
}
