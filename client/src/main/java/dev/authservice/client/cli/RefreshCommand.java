package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "refresh", description = "Exchange a refresh token (argument or stdin) for new tokens; prints JSON.")
final class RefreshCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", arity = "0..1", description = "Refresh token; read from stdin when absent.") String refreshToken;

  @Override
  public Integer call() {
    String token = TokenArgument.orStdin(refreshToken, root.stdin(), spec.commandLine());
    try (AuthClient client = root.connect()) {
      spec.commandLine().getOut().println(EventFormat.json(client.refresh(token)));
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }
}
