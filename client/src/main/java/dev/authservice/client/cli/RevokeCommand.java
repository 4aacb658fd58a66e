package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.proto.auth.v1.TokenTypeHint;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "revoke", description = "Revoke an access or refresh token (argument or stdin).")
final class RevokeCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", arity = "0..1", description = "The token; read from stdin when absent.") String token;
  @Option(names = "--refresh", description = "Hint that the token is a refresh token.") boolean refresh;

  @Override
  public Integer call() {
    String value = TokenArgument.orStdin(token, root.stdin(), spec.commandLine());
    try (AuthClient client = root.connect()) {
      client.revoke(value, refresh ? TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN : TokenTypeHint.TOKEN_TYPE_HINT_UNSPECIFIED);
      spec.commandLine().getErr().println("revoked");
      return ExitCodes.OK;
    }
  }
}
