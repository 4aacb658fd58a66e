package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.proto.auth.v1.LoginResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "login", description = "Log in; prints the access token (or the whole answer with --json).")
final class LoginCommand implements Callable<Integer> {
  @ParentCommand AuthCtl root;
  @Spec picocli.CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", description = "Username.") String username;
  @Mixin PasswordInput password;
  @Option(names = "--audience", defaultValue = "", description = "Audience of the token; default: the server's.") String audience;
  @Option(names = "--json", description = "Print the whole response as JSON, refresh token included.") boolean json;

  @Override
  public Integer call() {
    String secret = password.read(spec.commandLine(), root.stdin(), root.env());
    try (AuthClient client = root.connect()) {
      LoginResponse response = client.login(username, secret, audience);
      spec.commandLine().getOut().println(json ? EventFormat.json(response) : response.getAccessToken());
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }
}
