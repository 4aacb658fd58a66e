package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.proto.auth.v1.ValidateResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "validate", description = "Ask whether a token (argument or stdin) is active; prints the answer as JSON."
    + " Exit code 0 when active, 1 when not.")
final class ValidateCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", arity = "0..1", description = "The token; read from stdin when absent.") String token;
  @Option(names = "--audience", defaultValue = "", description = "Expected audience; default: the server's.") String audience;

  @Override
  public Integer call() {
    String value = TokenArgument.orStdin(token, root.stdin(), spec.commandLine());
    try (AuthClient client = root.connect()) {
      ValidateResponse response = client.validate(value, audience);
      spec.commandLine().getOut().println(EventFormat.json(response));
      spec.commandLine().getOut().flush();
      return response.getActive() ? ExitCodes.OK : ExitCodes.INACTIVE_OR_FAILED;
    }
  }
}
