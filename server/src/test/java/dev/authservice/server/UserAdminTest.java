package dev.authservice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.model.Filters;
import dev.authservice.proto.auth.v1.CreateUserRequest;
import dev.authservice.proto.auth.v1.CreateUserResponse;
import dev.authservice.proto.auth.v1.DisableUserRequest;
import dev.authservice.proto.auth.v1.ListUsersRequest;
import dev.authservice.proto.auth.v1.ListUsersResponse;
import dev.authservice.proto.auth.v1.User;
import dev.authservice.proto.auth.v1.UserAdminServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class UserAdminTest {
  private static TestServer server;
  private static UserAdminServiceGrpc.UserAdminServiceBlockingStub admin;

  @BeforeAll
  static void start() {
    server = TestServer.start();
    admin = TestServer.withBearer(server.userAdmin(), server.adminToken());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static CreateUserRequest user(String name, String... roles) {
    return CreateUserRequest.newBuilder().setUsername(name).setPassword(name + "-Password-1")
        .addAllRoles(List.of(roles)).build();
  }

  @Test
  void createReturnsTheUserAndTheUserCanLogIn() {
    CreateUserResponse created = admin.createUser(user("carol", "auditor", "reader"));
    User carol = created.getUser();
    assertEquals("carol", carol.getUsername());
    assertEquals(List.of("auditor", "reader"), carol.getRolesList());
    assertFalse(carol.getDisabled());
    assertTrue(carol.getCreateTime().getSeconds() > 0);
    assertFalse(server.login("carol", "carol-Password-1").getAccessToken().isEmpty());
  }

  @Test
  void duplicateUsernameIsAlreadyExists() {
    admin.createUser(user("dup"));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> admin.createUser(user("dup")));
    assertEquals(Status.Code.ALREADY_EXISTS, e.getStatus().getCode());
    assertEquals(1, server.database().getCollection("users").countDocuments(Filters.eq("username", "dup")));
  }

  @Test
  void concurrentCreatesOfOneNameLeaveExactlyOneUser() throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<Status.Code> codes = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < 6; i++) {
      Thread t = new Thread(() -> {
        try {
          admin.createUser(user("racer"));
          codes.add(Status.Code.OK);
        } catch (StatusRuntimeException e) {
          codes.add(e.getStatus().getCode());
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(1, codes.stream().filter(c -> c == Status.Code.OK).count(), codes.toString());
    assertEquals(5, codes.stream().filter(c -> c == Status.Code.ALREADY_EXISTS).count(), codes.toString());
    assertEquals(1, server.database().getCollection("users").countDocuments(Filters.eq("username", "racer")));
  }

  @Test
  void invalidNamesPasswordsAndRolesAreInvalidArgument() {
    List<CreateUserRequest> bad = List.of(
        CreateUserRequest.newBuilder().setUsername("").setPassword("long-enough-1").build(),
        CreateUserRequest.newBuilder().setUsername("has space").setPassword("long-enough-1").build(),
        CreateUserRequest.newBuilder().setUsername("{\"$ne\":1}").setPassword("long-enough-1").build(),
        CreateUserRequest.newBuilder().setUsername("x".repeat(129)).setPassword("long-enough-1").build(),
        CreateUserRequest.newBuilder().setUsername("shortpw").setPassword("short").build(),
        CreateUserRequest.newBuilder().setUsername("longpw").setPassword("p".repeat(1025)).build(),
        CreateUserRequest.newBuilder().setUsername("badrole").setPassword("long-enough-1").addRoles("Admin!").build());
    for (CreateUserRequest request : bad) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> admin.createUser(request));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), request.getUsername());
      assertFalse(e.getStatus().getDescription().contains("long-enough-1"));
    }
  }

  @Test
  void disableStopsLoginAndUnknownUserIsNotFound() {
    admin.createUser(user("erin"));
    User disabled = admin.disableUser(DisableUserRequest.newBuilder().setUsername("erin").build()).getUser();
    assertTrue(disabled.getDisabled());
    StatusRuntimeException login = assertThrows(StatusRuntimeException.class,
        () -> server.login("erin", "erin-Password-1"));
    assertEquals(Status.Code.UNAUTHENTICATED, login.getStatus().getCode());

    StatusRuntimeException missing = assertThrows(StatusRuntimeException.class,
        () -> admin.disableUser(DisableUserRequest.newBuilder().setUsername("nobody-here").build()));
    assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode());
  }

  /**
   * An account whose document an operator edited by hand into other types: listed, not a failed
   * read of every admin's page, and closed rather than open (a role that is not text grants
   * nothing, a {@code disabled} that is not a boolean disables, a hash that is not text matches no
   * password); its logins are refused, never INTERNAL.
   */
  @Test
  void anAccountEditedByHandIsListedAndClosed() {
    admin.createUser(user("hand-edited", "auditor"));
    var users = server.database().getCollection("users");
    users.updateOne(new org.bson.Document("username", "hand-edited"), new org.bson.Document("$set",
        new org.bson.Document("roles", List.of(1, "auditor", new org.bson.Document("admin", true)))
            .append("disabled", "no").append("create_time", "today")));

    User listed = allUsers().stream().filter(u -> u.getUsername().equals("hand-edited")).findFirst()
        .orElseThrow(() -> new AssertionError("the edited account is listed"));
    assertEquals(List.of("auditor"), listed.getRolesList());
    assertTrue(listed.getDisabled(), "a disabled flag that is not a boolean disables");
    StatusRuntimeException disabled = assertThrows(StatusRuntimeException.class,
        () -> server.login("hand-edited", "hand-edited-Password-1"));
    assertEquals(Status.Code.UNAUTHENTICATED, disabled.getStatus().getCode());

    users.updateOne(new org.bson.Document("username", "hand-edited"), new org.bson.Document("$set",
        new org.bson.Document("disabled", false).append("password_hash", 5)));
    StatusRuntimeException noHash = assertThrows(StatusRuntimeException.class,
        () -> server.login("hand-edited", "hand-edited-Password-1"));
    assertEquals(Status.Code.UNAUTHENTICATED, noHash.getStatus().getCode());

    // a name edited into a list is matched by each of its elements: never a second name for a password
    admin.createUser(user("hand-listed"));
    users.updateOne(new org.bson.Document("username", "hand-listed"), new org.bson.Document("$set",
        new org.bson.Document("username", List.of("hand-listed", "second-name"))));
    StatusRuntimeException secondName = assertThrows(StatusRuntimeException.class,
        () -> server.login("second-name", "hand-listed-Password-1"));
    assertEquals(Status.Code.UNAUTHENTICATED, secondName.getStatus().getCode());
    // and not listed: paging from such a name would meet it again and again
    List<String> names = allUsers(1).stream().map(User::getUsername).toList();
    assertTrue(names.stream().noneMatch(n -> n.contains("second-name")), "not listed: " + names);
    assertTrue(names.contains("hand-edited") && names.contains("admin"), "the others are: " + names);

    // disabled: null is not false
    admin.createUser(user("hand-nulled"));
    users.updateOne(new org.bson.Document("username", "hand-nulled"), new org.bson.Document("$set",
        new org.bson.Document("disabled", null)));
    assertThrows(StatusRuntimeException.class, () -> server.login("hand-nulled", "hand-nulled-Password-1"));
  }

  private static List<User> allUsers() {
    return allUsers(100);
  }

  /** Every page, at most 200 of them. */
  private static List<User> allUsers(int pageSize) {
    List<User> all = new ArrayList<>();
    ListUsersRequest request = ListUsersRequest.newBuilder().setPageSize(pageSize).build();
    ListUsersResponse page = admin.listUsers(request);
    all.addAll(page.getUsersList());
    for (int pages = 1; !page.getNextPageToken().isEmpty() && pages < 200; pages++) {
      page = admin.listUsers(request.toBuilder().setPageToken(page.getNextPageToken()).build());
      all.addAll(page.getUsersList());
    }
    return all;
  }

  @Test
  void listPagesInUsernameOrder() {
    for (String name : List.of("list-c", "list-a", "list-e", "list-b", "list-d")) {
      admin.createUser(user(name));
    }
    List<String> names = new ArrayList<>();
    ListUsersRequest request = ListUsersRequest.newBuilder().setPageSize(2).build();
    ListUsersResponse page = admin.listUsers(request);
    names.addAll(page.getUsersList().stream().map(User::getUsername).toList());
    while (!page.getNextPageToken().isEmpty()) {
      page = admin.listUsers(request.toBuilder().setPageToken(page.getNextPageToken()).build());
      names.addAll(page.getUsersList().stream().map(User::getUsername).toList());
    }
    List<String> sorted = new ArrayList<>(names);
    sorted.sort(null);
    assertEquals(sorted, names);
    assertTrue(names.containsAll(List.of("admin", "list-a", "list-b", "list-c", "list-d", "list-e")));
    assertEquals(names.size(), names.stream().distinct().count());

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> admin.listUsers(ListUsersRequest.newBuilder().setPageToken("forged").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }

  @Test
  void nonAdminsAreRefusedAndAudited() {
    admin.createUser(user("frank", "auditor"));
    var asFrank = TestServer.withBearer(server.userAdmin(), server.login("frank", "frank-Password-1").getAccessToken());
    for (Runnable call : List.<Runnable>of(
        () -> asFrank.createUser(user("frank-made")),
        () -> asFrank.disableUser(DisableUserRequest.newBuilder().setUsername("admin").build()),
        () -> asFrank.listUsers(ListUsersRequest.getDefaultInstance()))) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
      assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    }
    StatusRuntimeException anonymous = assertThrows(StatusRuntimeException.class,
        () -> server.userAdmin().createUser(user("anon-made")));
    assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getStatus().getCode());

    assertEquals(3, server.database().getCollection("audit_events").countDocuments(Filters.and(
        Filters.eq("type", "AUDIT_EVENT_TYPE_ACCESS_DENIED"), Filters.eq("username", "frank"))));
    assertEquals(0, server.database().getCollection("users").countDocuments(
        Filters.in("username", "frank-made", "anon-made")));
  }

  @Test
  void adminActionsAreAuditedWithTheActor() {
    admin.createUser(user("gina"));
    admin.disableUser(DisableUserRequest.newBuilder().setUsername("gina").build());
    assertThrows(StatusRuntimeException.class, () -> admin.createUser(user("gina")));
    var events = server.database().getCollection("audit_events");
    Document created = events.find(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_USER_CREATE"),
        Filters.eq("username", "gina"), Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"))).first();
    assertEquals("admin", created.getString("actor"));
    assertEquals("auth.v1.UserAdminService/CreateUser", created.getString("rpc_method"));
    assertEquals(1, events.countDocuments(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_USER_DISABLE"),
        Filters.eq("username", "gina"), Filters.eq("outcome", "AUDIT_OUTCOME_SUCCESS"))));
    assertEquals(1, events.countDocuments(Filters.and(Filters.eq("type", "AUDIT_EVENT_TYPE_USER_CREATE"),
        Filters.eq("username", "gina"), Filters.eq("reason", "already_exists"))));
  }

  @Test
  void bootstrapAdminIsCreatedOnceOnly() {
    try (TestServer again = server.sibling(b -> b, java.time.Clock.systemUTC())) {
      assertFalse(again.adminToken().isEmpty());
    }
    assertEquals(1, server.database().getCollection("users").countDocuments(Filters.eq("username", "admin")));
  }
}
