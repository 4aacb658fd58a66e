package dev.authservice.server.storage.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.ReadPreference;
import com.mongodb.WriteConcern;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A connection string cannot weaken the trail's durability or send security reads to a stale secondary. */
class ClientSettingsTest {
  private static MongoClientSettings settings(String uri) {
    return MongoStorage.clientSettings(new ConnectionString(uri), Optional.empty(), Duration.ofMillis(1500), "test");
  }

  @Test
  void aUriAskingForLessIsOverriddenWithAWarning() {
    String weak = "mongodb://db1,db2,db3/?replicaSet=rs0&w=1&journal=false&readPreference=secondaryPreferred";
    MongoClientSettings settings = settings(weak);
    assertEquals(WriteConcern.MAJORITY.withJournal(true), settings.getWriteConcern());
    assertEquals(ReadPreference.primary(), settings.getReadPreference());
    List<String> warnings = MongoStorage.overriddenUriOptions(new ConnectionString(weak));
    assertEquals(2, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).contains("w: majority, j: true"), warnings.get(0));
    assertTrue(warnings.get(1).contains("secondaryPreferred"), warnings.get(1));
  }

  @Test
  void aPlainUriGetsTheDurableDefaultsWithoutWarningsAndKeepsItsOtherOptions() {
    String plain = "mongodb://db1:27017/?replicaSet=rs0&serverSelectionTimeoutMS=5000";
    MongoClientSettings settings = settings(plain);
    assertEquals(WriteConcern.MAJORITY.withJournal(true), settings.getWriteConcern());
    assertEquals(ReadPreference.primary(), settings.getReadPreference());
    assertEquals(5000, settings.getClusterSettings().getServerSelectionTimeout(TimeUnit.MILLISECONDS));
    assertTrue(MongoStorage.overriddenUriOptions(new ConnectionString(plain)).isEmpty());
    assertTrue(MongoStorage.overriddenUriOptions(new ConnectionString(plain + "&w=majority&journal=true")).isEmpty());
  }
}
