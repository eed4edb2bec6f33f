package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.testing.Goldens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hub ids through a Hugging Face cache laid out as huggingface_hub writes it (refs/, snapshots/ of
 * links into blobs/), made here from the demo model: found offline, never downloaded.
 */
class HubCacheTest {
  static final String MAIN = "0123456789abcdef0123456789abcdef01234567";
  static final String OLD = "89abcdef0123456789abcdef0123456789abcdef";

  @TempDir Path tmp;

  /** CACHE/models--acme--demo-neo with the demo model as revision main and a config-only older one. */
  static Path fakeCache(Path cache) throws IOException {
    Path repo = cache.resolve("models--acme--demo-neo");
    Files.createDirectories(repo.resolve("blobs"));
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), MAIN); // huggingface_hub writes no newline
    Files.writeString(repo.resolve("refs/v1"), OLD + "\n");
    try (var files = Files.list(Goldens.demoModel())) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".json") && !name.endsWith(".safetensors") && !name.equals("merges.txt")) {
          continue;
        }
        Path blob = repo.resolve("blobs").resolve(Integer.toHexString(name.hashCode()));
        Files.copy(f, blob);
        for (String commit : name.equals("config.json") ? List.of(MAIN, OLD) : List.of(MAIN)) {
          Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve(commit));
          Files.createSymbolicLink(snapshot.resolve(name), Paths.get("../../blobs").resolve(blob.getFileName()));
        }
      }
    }
    return cache;
  }

  @Test
  void aCachedIdOpensLikeItsFolderAndGivesTheSameResults() throws IOException {
    Path cache = fakeCache(tmp.resolve("hub"));
    Path snapshot = HubCache.resolve("acme/demo-neo", cache);
    assertEquals(cache.resolve("models--acme--demo-neo/snapshots/" + MAIN), snapshot);
    List<Input> rows = List.of(Input.text("WIN A FREE PRIZE, click now"), Input.text("See you at the meeting"));
    try (Engine cached = Engine.open(snapshot, EngineOptions.builder().threads(1).build());
         Engine folder = Engine.open(Goldens.demoModel(), EngineOptions.builder().threads(1).build())) {
      List<ClassifyResult> got = cached.classify(rows, InputPolicy.DEFAULT);
      List<ClassifyResult> want = folder.classify(rows, InputPolicy.DEFAULT);
      for (int i = 0; i < rows.size(); i++) {
        assertEquals(want.get(i).label, got.get(i).label);
        assertEquals(want.get(i).probabilities, got.get(i).probabilities);
      }
    }
  }

  @Test
  void revisionsByNameOrCommitAndMissingOnes() throws IOException {
    Path cache = fakeCache(tmp.resolve("hub"));
    Path repo = cache.resolve("models--acme--demo-neo/snapshots");
    assertEquals(Optional.of(repo.resolve(OLD)), HubCache.snapshot(cache, "acme/demo-neo@v1"));
    assertEquals(Optional.of(repo.resolve(OLD)), HubCache.snapshot(cache, "acme/demo-neo@" + OLD));
    assertEquals(Optional.of(repo.resolve(MAIN)), HubCache.snapshot(cache, "acme/demo-neo@main"));
    assertFalse(HubCache.snapshot(cache, "acme/demo-neo@v2").isPresent());
    assertFalse(HubCache.snapshot(cache, "acme/demo-neo@../../x").isPresent());
    assertFalse(HubCache.snapshot(cache, "acme/other").isPresent());
    ModelException e = assertThrows(ModelException.class, () -> HubCache.resolve("EleutherAI/gpt-neo-125M", cache));
    assertTrue(e.getMessage().contains("model EleutherAI/gpt-neo-125M is not a folder, and the Hugging Face cache ("
        + cache + ") has no snapshot of it; nothing is downloaded at run time: fetch it first (huggingface-cli "
        + "download EleutherAI/gpt-neo-125M, or from_pretrained"), e.getMessage());
    assertTrue(HubCache.notFound("acme/demo-neo@v2", "/c")
        .contains("huggingface-cli download acme/demo-neo --revision v2,"));
  }

  @Test
  void anExistingFolderWinsAndPathsAreNotIds() throws IOException {
    Path cache = fakeCache(tmp.resolve("hub"));
    Path local = Files.createDirectories(tmp.resolve("acme/demo-neo"));
    assertEquals(local, HubCache.resolve(local.toString(), cache)); // absolute: not an id
    assertTrue(HubCache.looksLikeId("EleutherAI/gpt-neo-1.3B"));
    assertTrue(HubCache.looksLikeId("org/name@refs/pr/1"));
    for (String path : List.of("/models/neo", "./neo/x", "a/b/c", "neo", "C:\\models\\neo", "../x/y")) {
      assertFalse(HubCache.looksLikeId(path), path);
      assertEquals(Paths.get(path), HubCache.resolve(path, cache)); // loading then says what is missing
    }
  }

  @Test
  void bothCommandLinesTakeAnIdThroughHuggingFacesEnvironment() throws Exception {
    Path cache = fakeCache(tmp.resolve("hub"));
    String classify = childMain(cache, "{\"id\": 1, \"text\": \"WIN cash now\"}\n",
        "classify", "--model", "acme/demo-neo", "--threads", "1");
    assertTrue(classify.matches("(?s)\\{\"id\":1,\"label\":\"(ham|spam)\".*"), classify);
    String bench = childMain(cache, "", "bench", "--model", "acme/demo-neo", "--task",
        "prefill", "--batch-size", "1", "--prompt-tokens", "4", "--iterations", "1", "--warmup", "0",
        "--threads", "1", "--calibration-seconds", "0");
    assertTrue(bench.contains("\"model\":\"acme/demo-neo\""), bench); // the id, not the snapshot's hash
  }

  /** bin/gptneo's Main in a child JVM whose environment points HF_HUB_CACHE at {@code cache}; its stdout. */
  private String childMain(Path cache, String stdin, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(
        Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
        "-cp", System.getProperty("java.class.path"), "dev.gptneo.engine.cli.Main"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(tmp.resolve("child.log").toFile());
    builder.environment().put("HF_HUB_CACHE", cache.toString());
    Process child = builder.start();
    try (var in = child.getOutputStream()) {
      in.write(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, child.waitFor(), out + Files.readString(tmp.resolve("child.log")));
    return out.strip();
  }

  @Test
  void theCacheFolderFollowsHuggingFaceHubsEnvironment() {
    assertEquals(Paths.get("/c"), HubCache.cacheDir(Map.of("HF_HUB_CACHE", "/c", "HF_HOME", "/h"), "/u"));
    assertEquals(Paths.get("/h/hub"), HubCache.cacheDir(Map.of("HF_HOME", "/h", "XDG_CACHE_HOME", "/x"), "/u"));
    assertEquals(Paths.get("/x/huggingface/hub"), HubCache.cacheDir(Map.of("XDG_CACHE_HOME", "/x"), "/u"));
    assertEquals(Paths.get("/u/.cache/huggingface/hub"), HubCache.cacheDir(Map.of("HF_HOME", " "), "/u"));
  }
}
