package dev.gptneo.engine.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gptneo.engine.weights.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Finds ../shared (the golden references); tests that need it are skipped where it is absent. */
public final class Goldens {
  private Goldens() {}

  public static Path shared() {
    String prop = System.getProperty("gptneo.shared");
    for (String candidate : new String[] {prop, "../shared", "../../shared"}) {
      if (candidate != null && Files.isDirectory(Paths.get(candidate, "golden"))) {
        return Paths.get(candidate).toAbsolutePath().normalize();
      }
    }
    assumeTrue(false, "../shared/golden is not here; golden tests skipped");
    return null;
  }

  public static Path path(String relative) {
    Path p = shared().resolve(relative);
    assumeTrue(Files.exists(p), p + " is not here; test skipped");
    return p;
  }

  public static SafetensorsFile tensors(String relative) {
    return SafetensorsFile.open(path(relative));
  }

  /** The embedded demo model shipped in datasets-sample (the repository's own copy). */
  public static Path demoModel() {
    for (String c : new String[] {"../datasets-sample/models/gpt-neo-demo", "datasets-sample/models/gpt-neo-demo"}) {
      if (Files.isRegularFile(Paths.get(c, "config.json"))) {
        return Paths.get(c).toAbsolutePath().normalize();
      }
    }
    return path("models/gpt-neo-demo");
  }
}
