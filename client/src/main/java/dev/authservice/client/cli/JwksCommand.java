package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "jwks", description = "Print the server's token verification keys as a JWK Set (RFC 7517).")
final class JwksCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    try (AuthClient client = root.connect()) {
      spec.commandLine().getOut().println(client.jwks());
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }
}
