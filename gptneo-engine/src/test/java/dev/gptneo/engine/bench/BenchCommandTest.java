package dev.gptneo.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.cli.Main;
import dev.gptneo.engine.ops.cuda.CudaSupport;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code bin/gptneo bench}: its flags and its one JSON line (the checked contract). */
class BenchCommandTest {
  /** The fields every result line has. */
  static final List<String> CONTRACT = List.of("task", "model", "dtype", "device", "threads", "batch_size",
      "prompt_tokens", "new_tokens", "tokens_per_s", "seconds", "gflops_per_s", "peak_rss_mb");

  @TempDir
  static Path cache;

  record Run(int status, String out, String err) {}

  static Run bench(String... args) {
    String[] full = new String[args.length + 1];
    full[0] = "bench";
    System.arraycopy(args, 0, full, 1, args.length);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Main.run(full, new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A tiny in-process run: the hidden tiny size, one iteration, no warm-up, a short calibration. */
  static Run tiny(String... extra) {
    List<String> a = new ArrayList<>(List.of("--random", "tiny", "--cache", cache.toString(), "--threads", "1",
        "--iterations", "1", "--warmup", "0"));
    a.addAll(Arrays.asList(extra));
    if (!a.contains("--calibration-seconds")) {
      a.addAll(List.of("--calibration-seconds", "0.1"));
    }
    return bench(a.toArray(new String[0]));
  }

  static JsonNode oneJsonLine(Run r) throws IOException {
    assertEquals(0, r.status, r.err);
    String[] lines = r.out.strip().split("\n");
    assertEquals(1, lines.length, "exactly one line on stdout: " + r.out);
    JsonNode json = new ObjectMapper().readTree(lines[0]);
    for (String f : CONTRACT) {
      assertTrue(json.has(f), "field " + f + " in " + lines[0]);
    }
    return json;
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "", // neither --random nor --model
      "--random 7B",
      "--random 125M --model /tmp",
      "--random tiny --task train",
      "--random tiny --dtype f8",
      "--random tiny --batch-size 0",
      "--random tiny --prompt-tokens -3",
      "--random tiny --new-tokens x",
      "--random tiny --threads 0",
      "--random tiny --iterations 0",
      "--random tiny --kernels fast",
      "--random tiny --device tpu",
      "--random tiny --weights disk",
      "--random tiny --no-such-flag 1",
      "--random tiny --batch-size",
      "--random tiny positional",
  })
  void badFlagsExit2WithTheUsage(String args) {
    Run r = bench(args.isEmpty() ? new String[0] : args.split(" "));
    assertEquals(2, r.status, r.err);
    assertEquals("", r.out);
    assertTrue(r.err.contains("usage: bin/gptneo bench"), r.err);
  }

  @Test
  void tooManyPositionsForTheModelIsAUsageError() {
    // tiny has max_position_embeddings 256
    Run r = tiny("--task", "generate", "--prompt-tokens", "250", "--new-tokens", "10");
    assertEquals(2, r.status, r.err);
    assertTrue(r.err.contains("max_position_embeddings 256"), r.err);
  }

  @Test
  void aMissingModelFolderExits1() {
    Run r = bench("--model", cache.resolve("no-such-model").toString(), "--iterations", "1");
    assertEquals(1, r.status, r.err);
  }

  /** --device cuda without a CUDA driver fails at once (exit 1, saying why), before --random writes any weights. */
  @Test
  void anUnavailableDeviceFailsBeforeAnyWeightsAreWritten(@TempDir Path empty) throws IOException {
    assumeFalse(CudaSupport.available(), "this machine can run CUDA");
    Run r = bench("--random", "2.7B", "--device", "cuda", "--cache", empty.toString(), "--iterations", "1");
    assertEquals(1, r.status, r.err);
    assertTrue(r.err.contains("device 'cuda' is not available"), r.err);
    try (var left = Files.list(empty)) {
      assertEquals(0, left.count(), "nothing written to the cache");
    }
  }

  @Test
  void helpGoesToStdout() {
    Run r = bench("--help");
    assertEquals(0, r.status);
    assertTrue(r.out.contains("--prompt-tokens"), r.out);
  }

  @Test
  void prefillPrintsTheContractLine() throws IOException {
    JsonNode j = oneJsonLine(tiny("--task", "prefill", "--batch-size", "2", "--prompt-tokens", "12"));
    assertEquals("prefill", j.get("task").asText());
    assertEquals("tiny", j.get("model").asText());
    assertEquals("f32", j.get("dtype").asText());
    assertEquals("cpu", j.get("device").asText());
    assertEquals(1, j.get("threads").asInt());
    assertEquals(2, j.get("batch_size").asInt());
    assertEquals(12, j.get("prompt_tokens").asInt());
    assertEquals(0, j.get("new_tokens").asInt());
    assertTrue(j.get("tokens_per_s").asDouble() > 0);
    assertTrue(j.get("seconds").asDouble() > 0);
    assertTrue(j.get("gflops_per_s").isNumber());
    assertTrue(j.get("peak_gb_per_s").asDouble() > 0);
    assertTrue(j.get("limits").asText().startsWith("cpu, 1 threads: fp32 FMA"), j.get("limits").asText());
    double seconds = j.get("seconds").asDouble();
    assertEquals(24 / seconds, j.get("tokens_per_s").asDouble(),
        0.01 * j.get("tokens_per_s").asDouble() + roundingOf(24, seconds));
    if (Files.exists(Path.of("/proc/self/status"))) {
      assertTrue(j.get("peak_rss_mb").asDouble() > 0);
    }
  }

  @Test
  void generateCountsGeneratedTokensAndSplitsOffTheDecodeSteps() throws IOException {
    JsonNode j = oneJsonLine(tiny("--task", "generate", "--batch-size", "2", "--prompt-tokens", "6",
        "--new-tokens", "5", "--dtype", "bf16", "--kernels", "scalar", "--calibration-seconds", "0"));
    assertEquals("generate", j.get("task").asText());
    assertEquals("bf16", j.get("dtype").asText());
    assertEquals(5, j.get("new_tokens").asInt());
    assertEquals(10 / j.get("seconds").asDouble(), j.get("tokens_per_s").asDouble(),
        0.01 * j.get("tokens_per_s").asDouble() + roundingOf(10, j.get("seconds").asDouble()));
    for (String f : List.of("decode_tokens_per_s", "bandwidth_gb_per_s", "pct_of_bandwidth", "prefill_seconds")) {
      assertTrue(j.has(f), f);
    }
    assertTrue(j.get("pct_of_peak").isNull(), "no calibration: no fraction of it");
    assertTrue(j.get("limits").isNull());
  }

  @Test
  void classifyRunsTheScoreHead() throws IOException {
    JsonNode j = oneJsonLine(tiny("--task", "classify", "--batch-size", "3", "--prompt-tokens", "5",
        "--calibration-seconds", "0"));
    assertEquals("classify", j.get("task").asText());
    assertEquals(3, j.get("batch_size").asInt());
  }

  @Test
  void scoreRunsEveryRowsLogProbabilities() throws IOException {
    JsonNode j = oneJsonLine(tiny("--task", "score", "--batch-size", "2", "--prompt-tokens", "6",
        "--calibration-seconds", "0"));
    assertEquals("score", j.get("task").asText());
    assertEquals(2, j.get("batch_size").asInt());
    assertTrue(j.get("tokens_per_s").asDouble() > 0);
  }

  @Test
  void aModelFolderWorksAndItsDtypeMustMatch() throws IOException {
    Path dir = RandomCheckpoint.ensure(ModelSize.TINY, dev.gptneo.engine.weights.DType.F16, cache, null, null);
    JsonNode j = oneJsonLine(bench("--model", dir.toString(), "--batch-size", "1", "--prompt-tokens", "4",
        "--iterations", "1", "--warmup", "0", "--threads", "1", "--calibration-seconds", "0"));
    assertEquals("tiny-f16", j.get("model").asText());
    assertEquals("f16", j.get("dtype").asText());
    Run r = bench("--model", dir.toString(), "--dtype", "f32", "--iterations", "1", "--calibration-seconds", "0");
    assertEquals(2, r.status, r.err);
  }

  @Test
  void tokenizeMeasuresTheTokenizer(@TempDir Path tmp) throws IOException {
    Path tok = BenchFiles.demoTokenizerDir();
    assumeTrue(tok != null, "the demo model's tokenizer (datasets-sample) is not in this checkout");
    Path data = tmp.resolve("emails.jsonl");
    Files.writeString(data, "{\"subject\": \"Hello\", \"body\": \"Meeting at 10am, don't be late!\"}\n"
        + "{\"text\": \"Free money!!! Click here\"}\n");
    JsonNode j = oneJsonLine(bench("--random", "125M", "--task", "tokenize", "--tokenizer", tok.toString(), "--data",
        data.toString(), "--threads", "1", "--iterations", "1", "--warmup", "0"));
    assertEquals("tokenize", j.get("task").asText());
    assertEquals(2, j.get("batch_size").asInt());
    assertTrue(j.get("prompt_tokens").asInt() > 10);
    assertTrue(j.get("tokens_per_s").asDouble() > 0);
    assertTrue(j.get("gflops_per_s").isNull());
  }

  /** How much tokens / seconds can move when seconds is printed rounded to 4 decimals (coarse here). */
  private static double roundingOf(double tokens, double seconds) {
    return tokens / Math.max(seconds - 0.00005, 1e-9) - tokens / (seconds + 0.00005);
  }
}
