package dev.gptneo.engine.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds the benchmark's inputs in a checkout: the GPT-2 tokenizer of the embedded demo model
 * ({@code datasets-sample/models/gpt-neo-demo}) and the sample emails ({@code ../shared/data} or
 * {@code datasets-sample/data}), searching up from the working directory and from where the
 * engine's classes are (e.g. {@code gptneo-engine/target/...-cli.jar}).
 */
public final class BenchFiles {
  static final String DEMO = "datasets-sample/models/gpt-neo-demo";

  private BenchFiles() {}

  /** Folders to search from: the working directory, the classes' location, and their parents (4 up). */
  static List<Path> roots() {
    Set<Path> out = new LinkedHashSet<>();
    List<Path> starts = new ArrayList<>();
    starts.add(Path.of("").toAbsolutePath());
    try {
      starts.add(Path.of(BenchFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
    } catch (Exception | LinkageError e) {
      // no code source (e.g. a custom class loader): the working directory only
    }
    for (Path s : starts) {
      Path p = s.normalize();
      for (int i = 0; i < 5 && p != null; i++, p = p.getParent()) {
        out.add(p);
      }
    }
    return new ArrayList<>(out);
  }

  /** The demo model's folder (it holds the GPT-2 tokenizer files), or null. */
  public static Path demoTokenizerDir() {
    for (Path r : roots()) {
      Path d = r.resolve(DEMO);
      if (Files.isRegularFile(d.resolve("tokenizer.json")) || Files.isRegularFile(d.resolve("vocab.json"))) {
        return d;
      }
    }
    return null;
  }

  /** The sample emails: ../shared's spam_val.jsonl (604), else the shipped datasets-sample emails (300); or null. */
  public static Path sampleEmails() {
    List<Path> candidates = new ArrayList<>();
    String shared = System.getProperty("gptneo.shared");
    if (shared != null) {
      candidates.add(Path.of(shared, "data", "spam_val.jsonl"));
    }
    for (Path r : roots()) {
      candidates.add(r.resolve("shared/data/spam_val.jsonl"));
      if (r.getParent() != null) {
        candidates.add(r.getParent().resolve("shared/data/spam_val.jsonl"));
      }
    }
    for (Path r : roots()) {
      candidates.add(r.resolve("datasets-sample/emails.jsonl"));
    }
    for (Path c : candidates) {
      if (Files.isRegularFile(c)) {
        return c.normalize();
      }
    }
    return null;
  }
}
