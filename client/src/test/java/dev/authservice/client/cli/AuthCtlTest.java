package dev.authservice.client.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.authservice.client.RunningServer;
import dev.authservice.proto.auth.v1.AuditEventType;
import dev.authservice.proto.auth.v1.AuditOutcome;
import dev.authservice.proto.auth.v1.QueryAuditRequest;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class AuthCtlTest {
  private static RunningServer server;

  @BeforeAll
  static void start() {
    server = new RunningServer();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Cli.Run run(String stdin, Map<String, String> env, String... args) {
    return Cli.runWithInput(env, stdin, args);
  }

  private static Cli.Run run(String... args) {
    return run("", Map.of(), args);
  }

  private static String adminToken() {
    Cli.Run login = run(RunningServer.ADMIN_PASSWORD + "\n", Map.of(), "--target", server.target(), "login",
        RunningServer.ADMIN, "--password-stdin");
    assertEquals(0, login.exit(), login.err());
    return login.out().trim();
  }

  @Test
  void loginPrintsTheTokenThatValidates() {
    String token = adminToken();
    assertEquals(3, token.split("\\.").length);
    Cli.Run validate = run("--target", server.target(), "validate", token);
    assertEquals(ExitCodes.OK, validate.exit());
    assertTrue(validate.out().contains("\"active\":true"), validate.out());
    Cli.Run fromStdin = run(token + "\n", Map.of(), "--target", server.target(), "validate");
    assertEquals(ExitCodes.OK, fromStdin.exit());
  }

  @Test
  void anInactiveTokenExitsOne() {
    Cli.Run validate = run("--target", server.target(), "validate", "a.b.c");
    assertEquals(ExitCodes.INACTIVE_OR_FAILED, validate.exit());
    assertTrue(validate.out().contains("VALIDATION_FAILURE_"), validate.out());
  }

  @Test
  void usersAndAuditWithTheTokenFromTheEnvironment() {
    Map<String, String> env = new HashMap<>();
    env.put("AUTHCTL_TOKEN", adminToken());
    env.put("AUTHCTL_TARGET", server.target());
    Cli.Run create = run("ctl-user-Password-1\n", env, "users", "create", "ctl-user", "--role", "auditor", "--password-stdin");
    assertEquals(0, create.exit(), create.err());
    assertTrue(create.out().startsWith("ctl-user"));
    Cli.Run duplicate = run("ctl-user-Password-1\n", env, "users", "create", "ctl-user", "--password-stdin");
    assertEquals(ExitCodes.REFUSED, duplicate.exit());
    assertTrue(duplicate.err().startsWith("authctl: ALREADY_EXISTS"), duplicate.err());

    Cli.Run list = run("", env, "users", "list", "--format", "jsonl");
    assertEquals(0, list.exit(), list.err());
    assertTrue(list.out().contains("\"username\":\"ctl-user\""));

    Cli.Run audit = run("", env, "audit", "--type", "USER_CREATE", "--username", "ctl-user", "--since", "PT1H");
    assertEquals(0, audit.exit(), audit.err());
    String[] lines = audit.out().split("\n");
    assertTrue(lines[0].startsWith("TIME"));
    assertTrue(lines.length >= 3, audit.out());
    assertTrue(lines[1].contains("USER_CREATE") && lines[1].contains("ctl-user"), audit.out());

    Cli.Run jsonl = run("", env, "audit", "--type", "AUDIT_EVENT_TYPE_USER_CREATE", "--username", "ctl-user",
        "--format", "jsonl", "--limit", "1");
    assertEquals(1, jsonl.out().trim().split("\n").length);
    assertTrue(jsonl.out().startsWith("{\"id\":"), jsonl.out());

    Cli.Run disable = run("", env, "users", "disable", "ctl-user");
    assertEquals(0, disable.exit(), disable.err());
    assertTrue(disable.out().contains("disabled"));
    Cli.Run jwks = run("", env, "jwks");
    assertTrue(jwks.out().contains("\"kid\""));
  }

  @Test
  void statusesMapToExitCodes() {
    Cli.Run anonymous = run("--target", server.target(), "audit");
    assertEquals(ExitCodes.UNAUTHENTICATED, anonymous.exit());
    assertTrue(anonymous.err().startsWith("authctl: UNAUTHENTICATED"), anonymous.err());

    Map<String, String> env = new HashMap<>(Map.of("AUTHCTL_TOKEN", adminToken()));
    run("plain-ctl-Password-1\n", env, "--target", server.target(), "users", "create", "plain-ctl", "--password-stdin");
    Cli.Run plainLogin = run("plain-ctl-Password-1\n", Map.of(), "--target", server.target(), "login", "plain-ctl", "--password-stdin");
    Cli.Run denied = run("", Map.of("AUTHCTL_TOKEN", plainLogin.out().trim()), "--target", server.target(), "audit");
    assertEquals(ExitCodes.PERMISSION_DENIED, denied.exit(), denied.err());

    Cli.Run wrongPassword = run("nope-nope-nope\n", Map.of(), "--target", server.target(), "login", "admin", "--password-stdin");
    assertEquals(ExitCodes.UNAUTHENTICATED, wrongPassword.exit());
    assertTrue(!wrongPassword.err().contains("nope-nope-nope"));
  }

  @Test
  void anUnreachableServerIsUnavailable() throws Exception {
    int freePort;
    try (ServerSocket socket = new ServerSocket(0)) {
      freePort = socket.getLocalPort();
    }
    Cli.Run run = run("--target", "127.0.0.1:" + freePort, "--timeout", "PT5S", "validate", "a.b.c");
    assertEquals(ExitCodes.UNAVAILABLE, run.exit(), run.err());
  }

  @Test
  void usageErrorsExitTwo() {
    assertEquals(ExitCodes.USAGE, run("audit", "--since", "an hour").exit());
    assertEquals(ExitCodes.USAGE, run("audit", "--type", "NOT_A_TYPE").exit());
    assertEquals(ExitCodes.USAGE, run("login").exit());
    assertEquals(ExitCodes.USAGE, run("no-such-command").exit());
  }

  @Test
  void auditOptionsBecomeTheRequest() {
    CommandLine cli = AuthCtl.commandLine(new ByteArrayInputStream(new byte[0]), k -> null);
    CommandLine.ParseResult parsed = cli.parseArgs("audit", "--type", "LOGIN", "--type", "audit_event_type_token_validate",
        "--outcome", "failure", "--since", "PT1H", "--username", "u", "--client-ip", "10.0.0.1", "--page-size", "25");
    AuditCommand audit = (AuditCommand) parsed.subcommand().commandSpec().userObject();
    audit.clock = Clock.fixed(Instant.parse("2026-01-01T12:00:00Z"), ZoneOffset.UTC);
    QueryAuditRequest request = audit.request();
    assertEquals(java.util.List.of(AuditEventType.AUDIT_EVENT_TYPE_LOGIN, AuditEventType.AUDIT_EVENT_TYPE_TOKEN_VALIDATE),
        request.getTypesList());
    assertEquals(AuditOutcome.AUDIT_OUTCOME_FAILURE, request.getOutcome());
    assertEquals(Instant.parse("2026-01-01T11:00:00Z").getEpochSecond(), request.getStartTime().getSeconds());
    assertEquals("u", request.getUsername());
    assertEquals("10.0.0.1", request.getClientIp());
    assertEquals(25, request.getPageSize());
  }

  @Test
  void everyStatusHasItsExitCode() {
    assertEquals(3, ExitCodes.of(Status.Code.UNAUTHENTICATED));
    assertEquals(4, ExitCodes.of(Status.Code.PERMISSION_DENIED));
    assertEquals(5, ExitCodes.of(Status.Code.INVALID_ARGUMENT));
    assertEquals(5, ExitCodes.of(Status.Code.NOT_FOUND));
    assertEquals(6, ExitCodes.of(Status.Code.UNAVAILABLE));
    assertEquals(7, ExitCodes.of(Status.Code.DEADLINE_EXCEEDED));
    assertEquals(8, ExitCodes.of(Status.Code.RESOURCE_EXHAUSTED));
    assertEquals(9, ExitCodes.of(Status.Code.INTERNAL));
  }
}
