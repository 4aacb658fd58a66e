package dev.authservice.client.cli;

import dev.authservice.client.AuthClient;
import dev.authservice.proto.auth.v1.User;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "users", description = "User administration (role admin).",
    subcommands = {UsersCommand.Create.class, UsersCommand.Disable.class, UsersCommand.Unlock.class, UsersCommand.ListUsers.class})
final class UsersCommand {
  @ParentCommand AuthCtl root;

  static void printUser(PrintWriter out, User user, boolean json) {
    if (json) {
      out.println(EventFormat.json(user));
    } else {
      out.printf("%-24s %-30s %-8s %s%n", TerminalText.safe(user.getUsername()),
          TerminalText.safe(String.join(",", user.getRolesList())),
          user.getDisabled() ? "disabled" : "enabled",
          user.getLockedPermanently() ? "locked" : user.hasLockedUntil()
              ? "throttled until " + EventFormat.instant(user.getLockedUntil()) : "");
    }
    out.flush();
  }

  @Command(name = "create", description = "Create a user.")
  static final class Create implements Callable<Integer> {
    @ParentCommand UsersCommand users;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0") String username;
    @Option(names = "--role", description = "Role, repeatable (admin, auditor, validator, ...).") List<String> roles = new ArrayList<>();
    @Mixin PasswordInput password;

    @Override
    public Integer call() {
      String secret = password.read(spec.commandLine(), users.root.stdin(), users.root.env());
      try (AuthClient client = users.root.connect()) {
        printUser(spec.commandLine().getOut(), client.createUser(username, secret, roles), false);
        return ExitCodes.OK;
      }
    }
  }

  @Command(name = "disable", description = "Disable a user and end the user's tokens.")
  static final class Disable implements Callable<Integer> {
    @ParentCommand UsersCommand users;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0") String username;

    @Override
    public Integer call() {
      try (AuthClient client = users.root.connect()) {
        printUser(spec.commandLine().getOut(), client.disableUser(username), false);
        return ExitCodes.OK;
      }
    }
  }

  @Command(name = "unlock", description = "Clear login throttling and lockout of a user.")
  static final class Unlock implements Callable<Integer> {
    @ParentCommand UsersCommand users;
    @Spec CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0") String username;

    @Override
    public Integer call() {
      try (AuthClient client = users.root.connect()) {
        printUser(spec.commandLine().getOut(), client.unlockUser(username), false);
        return ExitCodes.OK;
      }
    }
  }

  @Command(name = "list", description = "List users in username order.")
  static final class ListUsers implements Callable<Integer> {
    @ParentCommand UsersCommand users;
    @Spec CommandLine.Model.CommandSpec spec;
    @Option(names = "--format", defaultValue = "table", description = "table or jsonl. Default: ${DEFAULT-VALUE}") String format;

    @Override
    public Integer call() {
      if (!format.equals("table") && !format.equals("jsonl")) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--format must be table or jsonl");
      }
      try (AuthClient client = users.root.connect()) {
        client.listUsers(200).forEach(u -> printUser(spec.commandLine().getOut(), u, format.equals("jsonl")));
        return ExitCodes.OK;
      }
    }
  }
}
