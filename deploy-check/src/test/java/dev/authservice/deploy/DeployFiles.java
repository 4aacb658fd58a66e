package dev.authservice.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The files under deploy/ and the server's documented defaults (docs/settings.md), read as data. */
final class DeployFiles {
  private DeployFiles() {}

  /** The repository's root: this module's parent directory. */
  static Path root() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("deploy")) ? here : here.getParent();
  }

  static Path file(String relative) {
    return root().resolve(relative);
  }

  /** Every document of a YAML file (SafeConstructor: plain maps, lists and scalars). */
  static List<Map<String, Object>> yamlDocuments(String relative) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Map<String, Object>> documents = new ArrayList<>();
    for (Object document : yaml.loadAll(Files.readString(file(relative)))) {
      if (document != null) {
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) document;
        documents.add(map);
      }
    }
    return documents;
  }

  static Map<String, Object> yaml(String relative) throws IOException {
    List<Map<String, Object>> documents = yamlDocuments(relative);
    if (documents.size() != 1) {
      throw new IllegalStateException(relative + ": expected one YAML document, found " + documents.size());
    }
    return documents.get(0);
  }

  /** A setting's default as docs/settings.md documents it: the third column, without backquotes. */
  static String documentedDefault(String variable) throws IOException {
    Pattern row = Pattern.compile("^\\| `" + Pattern.quote(variable) + "` \\| [^|]* \\| `([^`]*)` \\|",
        Pattern.MULTILINE);
    Matcher m = row.matcher(Files.readString(file("docs/settings.md")));
    if (!m.find()) {
      throw new IllegalStateException("docs/settings.md has no row with a `default` for " + variable);
    }
    return m.group(1);
  }

  /** A nested value: each key a map key, or a list index. */
  @SuppressWarnings("unchecked")
  static <T> T at(Object node, Object... path) {
    Object current = node;
    for (Object key : path) {
      if (current == null) {
        throw new IllegalStateException("nothing at " + key + " of " + List.of(path));
      }
      current = key instanceof Integer i ? ((List<Object>) current).get(i) : ((Map<String, Object>) current).get(key);
    }
    return (T) current;
  }
}
