package dev.gptneo.engine.tokenizer;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds ../shared (golden files, the demo model, data); tests skip when it is absent. */
final class SharedFiles {
  private SharedFiles() {}

  /** The shared folder, or null: system property gptneo.shared, then ../shared, ../../shared. */
  static Path sharedDir() {
    String property = System.getProperty("gptneo.shared");
    for (String candidate : new String[] {property, "../shared", "../../shared"}) {
      if (candidate != null && Files.isDirectory(Path.of(candidate))) {
        return Path.of(candidate).toAbsolutePath().normalize();
      }
    }
    return null;
  }

  /** shared/relative, skipping the calling test when it does not exist. */
  static Path require(String relative) {
    Path shared = sharedDir();
    assumeTrue(shared != null, "no shared folder (set -Dgptneo.shared)");
    Path path = shared.resolve(relative);
    assumeTrue(Files.exists(path), path + " is absent");
    return path;
  }

  /** The demo model: the repository's own copy (datasets-sample), else ../shared's. */
  static Path demoModel() {
    for (String c : new String[] {"../datasets-sample/models/gpt-neo-demo", "datasets-sample/models/gpt-neo-demo"}) {
      if (Files.isRegularFile(Path.of(c, "tokenizer.json"))) {
        return Path.of(c).toAbsolutePath().normalize();
      }
    }
    return require("models/gpt-neo-demo");
  }
}
