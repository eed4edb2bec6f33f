package dev.gptneo.engine.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.weights.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

  /**
   * The validation emails of data/spam_val.jsonl as the demo golden classified them ("subject\nbody"),
   * in the order of {@code rows} (demo_golden.json's classify.val.rows, each with an "id").
   */
  public static List<Input> validationEmails(JsonNode rows) throws IOException {
    ObjectMapper json = new ObjectMapper();
    Map<String, String> textById = new HashMap<>();
    for (String line : Files.readAllLines(path("data/spam_val.jsonl"))) {
      JsonNode n = json.readTree(line);
      textById.put(n.get("id").asText(), n.get("subject").asText() + "\n" + n.get("body").asText());
    }
    List<Input> in = new ArrayList<>();
    for (JsonNode row : rows) {
      in.add(Input.text(textById.get(row.get("id").asText())));
    }
    return in;
  }
}
