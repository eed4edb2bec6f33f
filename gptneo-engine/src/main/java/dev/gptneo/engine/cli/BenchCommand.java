package dev.gptneo.engine.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.api.HubCache;
import dev.gptneo.engine.bench.Bench;
import dev.gptneo.engine.bench.ModelSize;
import dev.gptneo.engine.weights.DType;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * {@code bin/gptneo bench}: the project's end-to-end benchmark (see docs/BENCHMARKS.md). Prints
 * exactly one JSON line on stdout; progress goes to stderr. A checked contract: the flags and the
 * fields below keep their names and meanings.
 */
final class BenchCommand {
  static final String USAGE = String.join("\n",
      "usage: bin/gptneo bench (--random 125M|1.3B|2.7B | --model DIR) [--dtype f32|f16|bf16]",
      "                        [--task prefill|generate|classify|score|tokenize] [--batch-size B] [--prompt-tokens P]",
      "                        [--new-tokens N] [--threads T] [--iterations I] [--warmup W]",
      "",
      "Runs one task I times (after W warm-up runs, default 1) and prints ONE JSON line on stdout:",
      "  {\"task\", \"model\", \"dtype\", \"device\", \"threads\", \"batch_size\", \"prompt_tokens\", \"new_tokens\",",
      "   \"tokens_per_s\", \"seconds\", \"gflops_per_s\", \"peak_rss_mb\", ...}",
      "from the best iteration, plus the machine's peak fp32 FLOP/s and DRAM bandwidth measured in the same",
      "run (peak_gflops_per_s, peak_gb_per_s) and the fractions reached (pct_of_peak, pct_of_bandwidth);",
      "with --device cuda the GPU's: a cuBLAS fp16 GEMM's FLOP/s and a device-memory read (\"limits\").",
      "",
      "  --random SIZE       random weights of a real GPT-Neo size, written once to",
      "                      ${GPTNEO_BENCH_CACHE:-~/.cache/gptneo/bench}/SIZE-DTYPE (125M f32: 0.5 GB,",
      "                      1.3B: 5.3 GB f32 / 2.6 GB bf16, 2.7B: 10.6 GB f32 / 5.3 GB bf16)",
      "  --model DIR         a Hugging Face GPT-Neo folder instead (or a Hub id in HF's local cache)",
      "  --dtype             weights of --random (default f32); with --model it must match the checkpoint",
      "  --task prefill      the transformer body on B x P prompt tokens, no LM head (default);",
      "                      tokens_per_s counts prompt tokens. Defaults B 8, P 256",
      "  --task generate     greedy, exactly N new tokens per row (min_new_tokens = N) after P random ids;",
      "                      tokens_per_s counts generated tokens. Defaults B 1, P 64, N 64",
      "  --task classify     the sequence-classification head on B x P ids. Defaults B 8, P 256",
      "  --task score        each token's log-probability (the LM head on every row) of B x P ids;",
      "                      tokens_per_s counts their tokens. Defaults B 8, P 256",
      "  --task tokenize     the tokenizer on the sample emails (subject + \"\\n\" + body), T threads",
      "  --threads T         compute threads (default: all cores); the calibration uses as many",
      "  --iterations I      timed runs (default 3); the best is reported, all are in iteration_seconds",
      "",
      "more: --warmup W  --kernels auto|vector|scalar  --weights auto|packed|mapped  --device cpu|cuda|auto",
      "      --max-batch-tokens N (tokens per forward step; the engine's default otherwise)",
      "      --calibration-seconds S (default 1.5; 0 skips it)  --seed S (random prompt ids)",
      "      --cache DIR (random checkpoints)  --tokenizer DIR  --data FILE.jsonl (tokenize)",
      "Exit status: 0 ok, 1 model/file problem, 2 bad command line.");

  private static final Set<String> VALUED = Set.of("random", "model", "dtype", "task", "batch-size", "prompt-tokens",
      "new-tokens", "threads", "iterations", "warmup", "kernels", "weights", "device", "max-batch-tokens",
      "calibration-seconds", "seed", "cache", "tokenizer", "data");

  private BenchCommand() {}

  static int run(String[] args, PrintStream stdout, PrintStream stderr) {
    try {
      return execute(args, stdout, stderr);
    } catch (UsageException e) {
      stderr.println("gptneo bench: " + e.getMessage());
      stderr.println();
      stderr.println(USAGE);
      return 2;
    }
  }

  private static int execute(String[] args, PrintStream stdout, PrintStream stderr) {
    if (args.length == 1 && (args[0].equals("-h") || args[0].equals("help"))) {
      args = new String[] {"--help"};
    }
    Flags flags = Flags.parse("bench", args, 0, VALUED, Set.of("help"), Set.of());
    if (flags.has("help")) {
      stdout.println(USAGE);
      return 0;
    }
    Bench.Spec spec = spec(flags);
    ObjectNode result;
    try {
      result = Bench.run(spec, stderr);
    } catch (Bench.BadSettings e) {
      throw new UsageException(e.getMessage());
    } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
      throw new ModelException(e.getMessage(), e);
    } catch (OutOfMemoryError e) {
      throw new ModelException("out of Java heap (" + e.getMessage() + "); raise -Xmx (GPTNEO_JAVA_OPTS) or"
          + " lower --batch-size", e);
    }
    try {
      stdout.println(new ObjectMapper().writeValueAsString(result));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    stdout.flush();
    return 0;
  }

  /** Parses and checks every flag before anything loads. */
  static Bench.Spec spec(Flags flags) {
    Bench.Spec s = new Bench.Spec();
    if (flags.has("random")) {
      s.random = ModelSize.parse(flags.get("random", ""));
      if (s.random == null) {
        throw new UsageException("--random must be 125M, 1.3B or 2.7B, got '" + flags.get("random", "") + "'");
      }
    }
    if (flags.has("model")) {
      String model = flags.get("model", "");
      s.model = HubCache.resolve(model);
      s.hubId = s.model.equals(Path.of(model)) ? null : model;
    }
    if (s.random != null && s.model != null) {
      throw new UsageException("give --random or --model, not both");
    }
    if (s.random == null && s.model == null) {
      throw new UsageException("bench needs --random 125M|1.3B|2.7B (random weights, nothing to download) or"
          + " --model DIR");
    }
    if (flags.has("dtype")) {
      String d = flags.get("dtype", "").trim().toLowerCase(Locale.ROOT);
      switch (d) {
        case "f32":
        case "fp32":
        case "float32":
          s.dtype = DType.F32;
          break;
        case "f16":
        case "fp16":
        case "float16":
          s.dtype = DType.F16;
          break;
        case "bf16":
        case "bfloat16":
          s.dtype = DType.BF16;
          break;
        default:
          throw new UsageException("--dtype must be f32, f16 or bf16, got '" + flags.get("dtype", "") + "'");
      }
    }
    s.task = flags.get("task", "prefill").trim().toLowerCase(Locale.ROOT);
    if (!Bench.TASKS.contains(s.task)) {
      throw new UsageException("--task must be prefill, generate, classify, score or tokenize, got '"
          + flags.get("task", "") + "'");
    }
    s.batchSize = flags.getInt("batch-size", -1, 1);
    s.promptTokens = flags.getInt("prompt-tokens", -1, 1);
    s.newTokens = flags.getInt("new-tokens", -1, 1);
    s.threads = flags.getInt("threads", s.threads, 1);
    s.iterations = flags.getInt("iterations", s.iterations, 1);
    s.warmup = flags.getInt("warmup", s.warmup, 0);
    s.maxBatchTokens = flags.getInt("max-batch-tokens", 0, 1);
    s.seed = flags.getLong("seed", s.seed);
    s.calibrationSeconds = flags.getDouble("calibration-seconds", s.calibrationSeconds);
    if (s.calibrationSeconds < 0 || s.calibrationSeconds > 60) {
      throw new UsageException("--calibration-seconds must be between 0 and 60, got " + s.calibrationSeconds);
    }
    s.kernels = flags.get("kernels", "auto").trim().toLowerCase(Locale.ROOT);
    if (!Set.of("auto", "vector", "scalar").contains(s.kernels)) {
      throw new UsageException("--kernels must be auto, vector or scalar, got '" + flags.get("kernels", "") + "'");
    }
    s.weights = flags.get("weights", "auto").trim().toLowerCase(Locale.ROOT);
    if (!Set.of("auto", "packed", "mapped").contains(s.weights)) {
      throw new UsageException("--weights must be auto, packed or mapped, got '" + flags.get("weights", "") + "'");
    }
    s.device = flags.get("device", "cpu").trim().toLowerCase(Locale.ROOT);
    if (!Set.of("cpu", "cuda", "auto").contains(s.device)) {
      throw new UsageException("--device must be cpu, cuda or auto, got '" + flags.get("device", "") + "'");
    }
    if (flags.has("cache")) {
      s.cacheDir = Path.of(flags.get("cache", ""));
    }
    if (flags.has("tokenizer")) {
      s.tokenizer = Path.of(flags.get("tokenizer", ""));
    }
    if (flags.has("data")) {
      s.data = Path.of(flags.get("data", ""));
    }
    return s;
  }
}
