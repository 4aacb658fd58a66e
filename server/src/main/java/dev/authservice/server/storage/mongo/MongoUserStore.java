package dev.authservice.server.storage.mongo;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gt;

import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import dev.authservice.server.user.DuplicateUsernameException;
import dev.authservice.server.user.User;
import dev.authservice.server.user.UserStore;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bson.Document;
import org.bson.conversions.Bson;

/** Accounts in the {@code users} collection: {@code _id} is the subject, {@code username} is uniquely indexed. */
final class MongoUserStore implements UserStore {
  static final String COLLECTION = "users";

  private final MongoCollection<Document> users;
  private final WriteBarrier barrier;

  MongoUserStore(MongoCollection<Document> users, WriteBarrier barrier) {
    this.users = users;
    this.barrier = barrier;
  }

  @Override
  public void insert(User user) {
    Document doc = new Document("_id", user.subject())
        .append("username", user.username())
        .append("password_hash", user.passwordHash())
        .append("roles", user.roles())
        .append("disabled", user.disabled())
        .append("create_time", Date.from(user.createTime()));
    try {
      users.insertOne(doc);
    } catch (MongoWriteException e) {
      if (Documents.isDuplicateKey(e)) {
        throw new DuplicateUsernameException(user.username());
      }
      throw e;
    }
    barrier.afterWrite();
  }

  @Override
  public Optional<User> findByUsername(String username) {
    return Optional.ofNullable(users.find(eq("username", username)).first()).map(MongoUserStore::toUser);
  }

  @Override
  public Optional<User> findBySubject(String subject) {
    return Optional.ofNullable(users.find(eq("_id", subject)).first()).map(MongoUserStore::toUser);
  }

  @Override
  public Optional<User> disable(String username) {
    Document updated = users.findOneAndUpdate(eq("username", username), Updates.set("disabled", true),
        new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
    if (updated != null) {
      barrier.afterWrite();
    }
    return Optional.ofNullable(updated).map(MongoUserStore::toUser);
  }

  @Override
  public void updatePasswordHash(String subject, String newHash) {
    users.updateOne(eq("_id", subject), Updates.set("password_hash", newHash));
    barrier.afterWrite();
  }

  @Override
  public List<User> list(Optional<String> afterUsername, int limit) {
    Bson filter = afterUsername.map(u -> gt("username", u)).orElse(new Document());
    List<User> page = new ArrayList<>(limit);
    try (MongoCursor<Document> found = users.find(filter).sort(Sorts.ascending("username"))
        .batchSize(Math.min(limit + 16, 1000)).cursor()) {
      while (page.size() < limit && found.hasNext()) {
        Document doc = found.next();
        // an account whose name is not text (an edit) is not listed: its name cannot be where the
        // next page starts (a list of names matches a bound by any of them, so paging from one
        // would meet it again and again), and it cannot log in (toUser)
        if (doc.get("username") instanceof String) {
          page.add(toUser(doc));
        }
      }
    }
    return page;
  }

  @Override
  public boolean anyEnabledUserWithRole(String role) {
    // one that toUser reads as enabled: an account whose subject or name is not text is disabled
    for (Document doc : users.find(and(eq("roles", role), eq("disabled", false)))) {
      if (named(doc)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The account a document holds. A document edited by hand (a role that is not text, {@code
   * disabled: "true"}) is read, never a failed read, and closed rather than open: a role that is
   * not text grants nothing, a {@code disabled} that is not a boolean (null too) disables, and so
   * does a subject or username that is not text, a password hash that is not text matches no
   * password. A missing {@code disabled} is an enabled account, as before. A failed read would fail every admin's ListUsers page
   * the account is on and answer its logins INTERNAL.
   */
  private static User toUser(Document doc) {
    List<String> roles = new ArrayList<>();
    if (doc.get("roles") instanceof List<?> stored) {
      stored.forEach(role -> {
        if (role instanceof String text) {
          roles.add(text);
        }
      });
    }
    Object disabled = doc.get("disabled");
    return new User(Documents.text(doc.get("_id")), Documents.text(doc.get("username")),
        doc.get("password_hash") instanceof String hash ? hash : "", roles,
        !named(doc) || (doc.containsKey("disabled") && !Boolean.FALSE.equals(disabled)),
        Documents.instantOrEpoch(doc.get("create_time")));
  }

  /**
   * Whether the account's subject and name are text. One that is not cannot be an account's: an
   * array name is matched by each of its elements (a second name for one password), a UUID subject
   * reads as another's. Such an account is read as disabled.
   */
  private static boolean named(Document doc) {
    return doc.get("_id") instanceof String && doc.get("username") instanceof String;
  }
}
