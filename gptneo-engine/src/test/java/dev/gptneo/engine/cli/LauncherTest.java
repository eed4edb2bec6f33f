package dev.gptneo.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gptneo.engine.testing.Goldens;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/gptneo as a separate process, as a user runs it. Skipped unless the cli jar was built
 * (the launcher would otherwise build it itself, which is too slow for a unit test): run
 * {@code ./mvnw -pl gptneo-engine -am -DskipTests package} first, then the tests.
 */
class LauncherTest {
  @TempDir Path tmp;

  static Path root() {
    for (String c : new String[] {"..", "."}) {
      Path p = Paths.get(c).toAbsolutePath().normalize();
      if (Files.isRegularFile(p.resolve("bin/gptneo")) && Files.isDirectory(p.resolve("gptneo-engine"))) {
        return p;
      }
    }
    assumeTrue(false, "bin/gptneo not found");
    return null;
  }

  static boolean cliJarBuilt(Path root) throws IOException {
    Path target = root.resolve("gptneo-engine/target");
    if (!Files.isDirectory(target)) {
      return false;
    }
    try (Stream<Path> files = Files.list(target)) {
      return files.anyMatch(p -> p.getFileName().toString().matches("gptneo-engine-.*-cli\\.jar"));
    }
  }

  static final class Result {
    int status;
    String out;
    String err;
  }

  Result launch(Path root, String stdin, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(root.resolve("bin/gptneo").toString()));
    cmd.addAll(List.of(args));
    File out = tmp.resolve("out-" + System.nanoTime()).toFile();
    File err = tmp.resolve("err-" + System.nanoTime()).toFile();
    File in = tmp.resolve("in-" + System.nanoTime()).toFile();
    Files.writeString(in.toPath(), stdin);
    Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectInput(in).redirectOutput(out)
        .redirectError(err).start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "bin/gptneo timed out");
    Result r = new Result();
    r.status = p.exitValue();
    r.out = Files.readString(out.toPath(), StandardCharsets.UTF_8);
    r.err = Files.readString(err.toPath(), StandardCharsets.UTF_8);
    return r;
  }

  @Test
  void launcherRunsTheCliJar() throws Exception {
    Path root = root();
    assumeTrue(cliJarBuilt(root), "no gptneo-engine/target/gptneo-engine-*-cli.jar; build it to run this test");
    String demo = Goldens.demoModel().toString();
    Result ok = launch(root, "{\"id\": \"x\", \"text\": \"Hello world\"}\n", "tokenize", "--model", demo);
    assertEquals(0, ok.status, ok.err);
    assertEquals("{\"id\":\"x\",\"input_ids\":[15496,995]}\n", ok.out);
    assertTrue(ok.err.contains("loaded"), "logs go to stderr: " + ok.err);
    Result bad = launch(root, "", "generate", "--model", demo, "--no-such-flag");
    assertEquals(2, bad.status);
    assertTrue(bad.err.contains("usage: bin/gptneo"), bad.err);
    assertTrue(bad.out.isEmpty());
    Result missing = launch(root, "", "info", "--model", tmp.resolve("missing").toString());
    assertEquals(1, missing.status);
    assertTrue(missing.err.contains("does not exist"), missing.err);
  }
}
