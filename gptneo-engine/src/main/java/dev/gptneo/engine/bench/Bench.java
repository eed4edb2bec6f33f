package dev.gptneo.engine.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.api.ClassifyResult;
import dev.gptneo.engine.api.EmbedResult;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.ModelInfo;
import dev.gptneo.engine.api.ScoreResult;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Backends;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import dev.gptneo.engine.weights.DType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The project's end-to-end benchmark ({@code bin/gptneo bench}): runs one task on the engine a
 * few times and reports one JSON object: throughput, FLOP/s, peak RSS, and the machine's own
 * peak FLOP/s and DRAM bandwidth measured in the same run (see {@link Calibration}), so every
 * number comes with the fraction of the hardware it reached. See docs/BENCHMARKS.md.
 *
 * <ul>
 *   <li>prefill: {@link Engine#embed} of B rows of P token ids: the transformer body and ln_f, no
 *       LM head; tokens_per_s counts prompt tokens.</li>
 *   <li>generate: greedy {@link Engine#generate} with min_new_tokens = max_new_tokens = N, so
 *       every row generates exactly N tokens; tokens_per_s counts generated tokens over the whole
 *       call (prompt prefill included). Each iteration also times the same call with N = 1; the
 *       difference is the decode steps alone, which give decode_tokens_per_s and the fraction of
 *       the DRAM bandwidth bound.</li>
 *   <li>classify: {@link Engine#classify} (the sequence-classification head) of B rows of P ids.</li>
 *   <li>score: {@link Engine#score} of B rows of P ids: the body, the LM head on every row but the
 *       last, and each next token's log-probability; tokens_per_s counts the rows' tokens.</li>
 *   <li>tokenize: the model's tokenizer on the sample emails (subject + "\n" + body), T threads.</li>
 * </ul>
 */
public final class Bench {
  public static final List<String> TASKS = List.of("prefill", "generate", "classify", "score", "tokenize");

  /** A setting that cannot work (the command line's fault): the CLI exits 2 with its message. */
  public static final class BadSettings extends IllegalArgumentException {
    public BadSettings(String message) {
      super(message);
    }
  }

  /** What to run. Fields left at their defaults take the documented defaults. */
  public static final class Spec {
    public ModelSize random;          // --random
    public Path model;                // --model, as a folder
    public String hubId;              // --model when it named a Hub id (the "model" field); else null
    public DType dtype;               // --dtype; null: F32 for --random, the checkpoint's own for --model
    public String task = "prefill";
    public int batchSize = -1;        // default 8 (prefill, classify), 1 (generate)
    public int promptTokens = -1;     // default 256 (prefill, classify), 64 (generate)
    public int newTokens = -1;        // default 64
    public int threads = Runtime.getRuntime().availableProcessors();
    public int iterations = 3;
    public int warmup = 1;
    public String device = "cpu";
    public String kernels = "auto";
    public String weights = "auto";   // auto | packed | mapped (EngineOptions.Weights)
    public int maxBatchTokens = 0;    // 0: the engine's default
    public Path cacheDir;             // null: RandomCheckpoint.defaultCacheDir()
    public Path tokenizer;            // tokenize: the tokenizer folder (default: the model's, else the demo model's)
    public Path data;                 // tokenize: a JSONL of {subject, body} (default: the sample emails)
    public long seed = 1;             // the random prompts
    public double calibrationSeconds = 1.5; // 0 skips the calibration

    int batch() {
      return batchSize > 0 ? batchSize : task.equals("generate") ? 1 : 8;
    }

    int prompt() {
      return promptTokens > 0 ? promptTokens : task.equals("generate") ? 64 : 256;
    }

    int newTokens() {
      return task.equals("generate") ? (newTokens > 0 ? newTokens : 64) : 0;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private Bench() {}

  /**
   * Runs the benchmark; progress goes to {@code log} (stderr). Returns the result object.
   *
   * @throws BadSettings for settings that cannot work
   * @throws ModelException when the model cannot be loaded or run
   */
  public static ObjectNode run(Spec spec, PrintStream log) {
    if (!TASKS.contains(spec.task)) {
      throw new BadSettings("--task must be one of " + String.join(", ", TASKS) + "; got '" + spec.task + "'");
    }
    if ((spec.random == null) == (spec.model == null)) {
      throw new BadSettings("give exactly one of --random 125M|1.3B|2.7B (random weights, no download) or"
          + " --model DIR (a Hugging Face GPT-Neo folder)");
    }
    if (spec.iterations < 1 || spec.warmup < 0 || spec.threads < 1) {
      throw new BadSettings("--iterations and --threads must be >= 1 and --warmup >= 0");
    }
    if (spec.task.equals("tokenize")) {
      return tokenize(spec, log);
    }
    int b = spec.batch();
    int p = spec.prompt();
    int n = spec.newTokens();
    EngineOptions options = options(spec, b);
    try {
      Backends.requireAvailable(options); // before --random writes gigabytes of weights
    } catch (IllegalArgumentException e) {
      throw new ModelException(e.getMessage(), e);
    }
    Path dir = modelDir(spec, log);
    GptNeoConfig config = GptNeoConfig.load(dir);
    int needed = p + n;
    if (needed > config.maxPositionEmbeddings) {
      throw new BadSettings("--prompt-tokens " + p + (n > 0 ? " plus --new-tokens " + n : "") + " is "
          + needed + " positions, more than the model's max_position_embeddings " + config.maxPositionEmbeddings);
    }

    ObjectNode out = JSON.createObjectNode();
    Timings t;
    ModelInfo info;
    double peakRss;
    try (Engine engine = open(dir, options)) {
      info = engine.info();
      String dtype = info.weightDtype.toLowerCase(Locale.ROOT);
      if (spec.model != null && spec.dtype != null && !spec.dtype.name().equalsIgnoreCase(info.weightDtype)) {
        throw new BadSettings("--dtype " + spec.dtype.name().toLowerCase(Locale.ROOT) + " does not match the"
            + " checkpoint in " + dir + " (" + dtype + "); --dtype picks the weights of --random only");
      }
      log.printf(Locale.ROOT, "bench: %s on %s (%s, %d parameters, %.2f GB of weights), backend %s%n", spec.task,
          dir, dtype, info.parameters, info.weightBytes / 1e9, info.backend);
      List<Input> inputs = randomPrompts(b, p, config.vocabSize, spec.seed);
      t = measure(engine, spec, inputs, b, p, n, log);
      peakRss = ProcessStats.peakRssMb();
    }
    Workload work = new Workload(config, (double) info.weightBytes / info.parameters, info.kvCacheElementBytes);
    double flops;
    switch (spec.task) {
      case "prefill":
        flops = work.prefillFlops(b, p);
        break;
      case "classify":
        flops = work.classifyFlops(b, p, info.sequenceLabels == null ? 0 : info.sequenceLabels.size());
        break;
      case "score":
        flops = work.scoreFlops(b, p);
        break;
      default:
        flops = work.generateFlops(b, p, n);
    }
    double best = t.best();
    long tokens = spec.task.equals("generate") ? (long) b * n : (long) b * p;

    MachineLimits limits = spec.calibrationSeconds <= 0 ? null : info.backend.contains("cuda")
        ? MachineLimits.gpu(options.deviceIndex, spec.calibrationSeconds, log)
        : MachineLimits.cpu(spec.threads, spec.calibrationSeconds, log);
    header(out, spec, modelName(spec, dir), info.weightDtype.toLowerCase(Locale.ROOT), info.backend, b, p, n);
    num(out, "tokens_per_s", tokens / best, 1);
    num(out, "seconds", best, 4);
    num(out, "gflops_per_s", flops / best / 1e9, 2);
    putOrNull(out, "peak_rss_mb", peakRss < 0 ? Double.NaN : round(peakRss, 1));
    // extras: the calibration and the fractions of it
    putOrNull(out, "peak_gflops_per_s", limits == null ? Double.NaN : round(limits.flops / 1e9, 1));
    putOrNull(out, "peak_gb_per_s", limits == null ? Double.NaN : round(limits.bandwidth / 1e9, 1));
    putOrNull(out, "pct_of_peak", limits == null ? Double.NaN : round(100 * flops / best / limits.flops, 1));
    if (spec.task.equals("generate")) {
      double decodeSeconds = t.bestDecode();
      boolean ok = n > 1 && decodeSeconds > 0;
      double decodeBytes = work.decodeBytes(b, p, n);
      double steps = n - 1;
      putOrNull(out, "decode_tokens_per_s", ok ? round(b * steps / decodeSeconds, 1) : Double.NaN);
      putOrNull(out, "decode_gflops_per_s", ok ? round(work.decodeFlops(b, p, n) / decodeSeconds / 1e9, 2)
          : Double.NaN);
      putOrNull(out, "bandwidth_gb_per_s", ok ? round(decodeBytes / decodeSeconds / 1e9, 2) : Double.NaN);
      putOrNull(out, "pct_of_bandwidth", ok && limits != null
          ? round(100 * decodeBytes / decodeSeconds / limits.bandwidth, 1) : Double.NaN);
      putOrNull(out, "bandwidth_bound_tokens_per_s", n > 1 && limits != null
          ? round(b * steps * limits.bandwidth / decodeBytes, 1) : Double.NaN);
      out.put("weight_bytes_per_step", Math.round(work.weightBytesPerStep()));
      num(out, "prefill_seconds", t.bestPrefillOnly(), 4);
    }
    if (limits == null) {
      out.putNull("limits");
    } else {
      out.put("limits", limits.what);
    }
    out.put("backend", info.backend);
    out.put("parameters", info.parameters);
    out.put("weight_bytes", info.weightBytes);
    tail(out, spec, t);
    return out;
  }

  /** The engine options of the spec: a BadSettings for a value the engine refuses. */
  private static EngineOptions options(Spec spec, int batch) {
    EngineOptions.Builder ob = EngineOptions.builder().threads(spec.threads).device(spec.device)
        .maxBatchSequences(Math.max(batch, 1));
    try {
      ob.kernels(spec.kernels).weights(spec.weights);
      if (spec.maxBatchTokens > 0) {
        ob.maxBatchTokens(spec.maxBatchTokens);
      }
      return ob.build();
    } catch (IllegalArgumentException e) {
      throw new BadSettings(e.getMessage());
    }
  }

  private static Engine open(Path dir, EngineOptions options) {
    try {
      return Engine.open(dir, options);
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ModelException(e.getMessage(), e); // e.g. --device cuda or --kernels vector where unavailable
    }
  }

  private static Path modelDir(Spec spec, PrintStream log) {
    if (spec.model != null) {
      if (!Files.isDirectory(spec.model)) {
        throw new ModelException("model folder " + spec.model + " does not exist or is not a directory");
      }
      return spec.model;
    }
    DType dtype = spec.dtype == null ? DType.F32 : spec.dtype;
    Path cache = spec.cacheDir != null ? spec.cacheDir : RandomCheckpoint.defaultCacheDir();
    return RandomCheckpoint.ensure(spec.random, dtype, cache, BenchFiles.demoTokenizerDir(), log);
  }

  private static String modelName(Spec spec, Path dir) {
    return spec.random != null ? spec.random.name : spec.hubId != null ? spec.hubId
        : dir.toAbsolutePath().normalize().getFileName().toString();
  }

  /** B prompts of P token ids, uniform over the vocabulary, seeded. */
  static List<Input> randomPrompts(int batch, int prompt, int vocab, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Input> out = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      int[] ids = new int[prompt];
      for (int j = 0; j < prompt; j++) {
        ids[j] = r.nextInt(vocab);
      }
      out.add(Input.ids(ids));
    }
    return out;
  }

  /** Seconds of each timed iteration (and, for generate, of the same call with one new token). */
  static final class Timings {
    final List<Double> seconds = new ArrayList<>();
    final List<Double> prefillOnly = new ArrayList<>();
    final List<Double> otherBusy = new ArrayList<>(); // per timed iteration: CPU share used by other processes

    /** Other processes' CPU share during the best iteration. */
    double otherBusyOfBest() {
      int i = seconds.indexOf(best());
      return i < 0 || i >= otherBusy.size() ? Double.NaN : otherBusy.get(i);
    }

    double best() {
      return seconds.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    double bestPrefillOnly() {
      return prefillOnly.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    /** The decode steps alone: the best full call minus the best one-token call. */
    double bestDecode() {
      return best() - bestPrefillOnly();
    }
  }

  private static Timings measure(Engine engine, Spec spec, List<Input> inputs, int b, int p, int n, PrintStream log) {
    Timings t = new Timings();
    GenerationParams full = n > 0 ? GenerationParams.builder().maxNewTokens(n).minNewTokens(n).build() : null;
    GenerationParams one = GenerationParams.builder().maxNewTokens(1).minNewTokens(1).build();
    for (int i = 0; i < spec.warmup + spec.iterations; i++) {
      boolean warm = i < spec.warmup;
      String label = warm ? "warm-up " + (i + 1) + "/" + spec.warmup
          : "iteration " + (i - spec.warmup + 1) + "/" + spec.iterations;
      long[] ticks0 = ProcessStats.cpuTicks();
      double prefillOnly = Double.NaN;
      if (full != null && n > 1) {
        prefillOnly = time(() -> checkGenerate(engine.generate(inputs, one, InputPolicy.DEFAULT), 1));
      }
      double s = time(() -> once(engine, spec.task, inputs, full, n));
      double other = ProcessStats.otherBusyFraction(ticks0, ProcessStats.cpuTicks());
      long tokens = spec.task.equals("generate") ? (long) b * n : (long) b * p;
      log.printf(Locale.ROOT, "bench: %s: %.3f s, %.1f tokens/s%s; other processes used %.0f%% of the CPUs%n", label, s,
          tokens / s, Double.isNaN(prefillOnly) ? "" : String.format(Locale.ROOT,
              " (one-token call %.3f s, decode %.1f tokens/s)", prefillOnly, b * (n - 1) / (s - prefillOnly)),
          100 * other);
      if (!warm) {
        t.seconds.add(s);
        t.otherBusy.add(other);
        if (!Double.isNaN(prefillOnly)) {
          t.prefillOnly.add(prefillOnly);
        }
      }
    }
    return t;
  }

  private static void once(Engine engine, String task, List<Input> inputs, GenerationParams params, int n) {
    switch (task) {
      case "prefill":
        for (EmbedResult r : engine.embed(inputs, InputPolicy.DEFAULT)) {
          check(r == null ? "no result" : r.error);
        }
        break;
      case "classify":
        List<ClassifyResult> rs;
        try {
          rs = engine.classify(inputs, InputPolicy.DEFAULT);
        } catch (IllegalArgumentException e) {
          throw new ModelException(e.getMessage() + " (the random checkpoints have one)");
        }
        for (ClassifyResult r : rs) {
          check(r == null ? "no result" : r.error);
        }
        break;
      case "score":
        for (ScoreResult r : engine.score(inputs, InputPolicy.DEFAULT)) {
          check(r == null ? "no result" : r.error);
        }
        break;
      default:
        checkGenerate(engine.generate(inputs, params, InputPolicy.DEFAULT), n);
    }
  }

  private static void checkGenerate(List<GenerateResult> results, int n) {
    for (GenerateResult r : results) {
      check(r == null ? "no result" : r.error);
      if (r.completionIds.length != n) {
        throw new ModelException("a row generated " + r.completionIds.length + " tokens instead of " + n
            + " (min_new_tokens should have kept it going)");
      }
    }
  }

  private static void check(String error) {
    if (error != null) {
      throw new ModelException("a benchmark row failed: " + error);
    }
  }

  private static double time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return (System.nanoTime() - t0) / 1e9;
  }

  // ---- tokenize -------------------------------------------------------------------------------

  private static ObjectNode tokenize(Spec spec, PrintStream log) {
    Path tokDir = spec.tokenizer;
    if (tokDir == null && spec.model != null && Gpt2Tokenizer.load(spec.model).isPresent()) {
      tokDir = spec.model;
    }
    if (tokDir == null) {
      tokDir = BenchFiles.demoTokenizerDir();
    }
    if (tokDir == null) {
      throw new BadSettings("no tokenizer found: pass --tokenizer DIR (a folder with tokenizer.json or"
          + " vocab.json + merges.txt), e.g. datasets-sample/models/gpt-neo-demo");
    }
    Path data = spec.data != null ? spec.data : BenchFiles.sampleEmails();
    if (data == null) {
      throw new BadSettings("no sample emails found (../shared/data/spam_val.jsonl or"
          + " datasets-sample/emails.jsonl): pass --data FILE, a JSONL file of {\"subject\", \"body\"} or"
          + " {\"text\"} lines");
    }
    Path dir = tokDir;
    Gpt2Tokenizer tokenizer = Gpt2Tokenizer.load(dir).orElseThrow(() -> new BadSettings("no tokenizer files in "
        + dir + " (tokenizer.json or vocab.json + merges.txt)"));
    List<String> texts = readTexts(data);
    if (texts.isEmpty()) {
      throw new BadSettings(data + " has no texts");
    }
    long chars = texts.stream().mapToLong(String::length).sum();
    int threads = spec.threads;
    log.printf(Locale.ROOT, "bench: tokenize %d texts (%d chars) from %s with %s, %d thread(s)%n", texts.size(), chars,
        data, dir, threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread th = new Thread(r, "gptneo-bench-tokenize");
      th.setDaemon(true);
      return th;
    });
    Timings t = new Timings();
    List<Double> rates = new ArrayList<>();
    long tokensPerPass = 0;
    double freshRate;
    try {
      for (int i = 0; i < spec.warmup + spec.iterations; i++) {
        // an iteration: passes over all texts until at least half a second has gone by
        long[] ticks0 = ProcessStats.cpuTicks();
        long t0 = System.nanoTime();
        long sum = 0;
        int passes = 0;
        do {
          long pass = tokenizePass(pool, tokenizer, texts, threads);
          tokensPerPass = pass;
          sum += pass;
          passes++;
        } while (System.nanoTime() - t0 < 500_000_000L);
        double s = (System.nanoTime() - t0) / 1e9;
        double other = ProcessStats.otherBusyFraction(ticks0, ProcessStats.cpuTicks());
        boolean warm = i < spec.warmup;
        log.printf(Locale.ROOT, "bench: %s: %d passes in %.3f s, %.0f tokens/s; other processes used %.0f%% of the"
            + " CPUs%n", warm ? "warm-up " + (i + 1) : "iteration " + (i - spec.warmup + 1), passes, s, sum / s,
            100 * other);
        if (!warm) {
          t.seconds.add(s / passes); // seconds per pass over all texts
          t.otherBusy.add(other);
          rates.add(sum / s);
        }
      }
      // a fresh tokenizer (empty word cache) with the JIT warm: one pass
      Gpt2Tokenizer fresh = Gpt2Tokenizer.load(dir).orElseThrow();
      long f0 = System.nanoTime();
      long pass = tokenizePass(pool, fresh, texts, threads);
      freshRate = pass / ((System.nanoTime() - f0) / 1e9);
      log.printf(Locale.ROOT, "bench: one pass of a fresh tokenizer (empty word cache, JIT warm): %.0f tokens/s%n",
          freshRate);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ModelException("interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new ModelException("tokenizing failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    double peakRss = ProcessStats.peakRssMb();
    double bestRate = rates.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    ObjectNode out = JSON.createObjectNode();
    header(out, spec, modelName(spec, spec.model), spec.dtype == null ? null : spec.dtype.name().toLowerCase(Locale.ROOT), "cpu",
        texts.size(), (int) Math.min(Integer.MAX_VALUE, tokensPerPass), 0);
    num(out, "tokens_per_s", bestRate, 1);
    num(out, "seconds", tokensPerPass / bestRate, 4);
    out.putNull("gflops_per_s");
    putOrNull(out, "peak_rss_mb", peakRss < 0 ? Double.NaN : round(peakRss, 1));
    out.put("texts", texts.size());
    out.put("chars", chars);
    num(out, "mb_per_s", chars * bestRate / tokensPerPass / 1e6, 2);
    num(out, "fresh_cache_tokens_per_s", freshRate, 1);
    out.put("tokenizer", dir.toAbsolutePath().normalize().toString());
    out.put("data", data.toAbsolutePath().normalize().toString());
    tail(out, spec, t);
    return out;
  }

  /** subject + "\n" + body of each JSON line (the classification input), or its "text". */
  /** One pass over all texts on {@code threads} threads (text j on thread j % threads); returns the tokens. */
  private static long tokenizePass(ExecutorService pool, Gpt2Tokenizer tokenizer, List<String> texts, int threads)
      throws InterruptedException, java.util.concurrent.ExecutionException {
    List<Future<Long>> parts = new ArrayList<>();
    for (int k = 0; k < threads; k++) {
      int first = k;
      parts.add(pool.submit(() -> {
        long n = 0;
        for (int j = first; j < texts.size(); j += threads) {
          n += tokenizer.encode(texts.get(j)).length;
        }
        return n;
      }));
    }
    long tokens = 0;
    for (Future<Long> f : parts) {
      tokens += f.get();
    }
    return tokens;
  }

  static List<String> readTexts(Path jsonl) {
    List<String> texts = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode row = JSON.readTree(line);
        if (row.has("subject") || row.has("body")) {
          texts.add(row.path("subject").asText("") + "\n" + row.path("body").asText(""));
        } else if (row.has("text")) {
          texts.add(row.get("text").asText());
        }
      }
    } catch (IOException e) {
      throw new ModelException("cannot read " + jsonl + ": " + e.getMessage(), e);
    }
    return texts;
  }

  // ---- JSON -----------------------------------------------------------------------------------

  private static void header(ObjectNode out, Spec spec, String model, String dtype, String backend, int b, int p,
      int n) {
    out.put("task", spec.task);
    out.put("model", model);
    if (dtype == null) {
      out.putNull("dtype");
    } else {
      out.put("dtype", dtype);
    }
    out.put("device", backend.startsWith("cpu") ? "cpu" : backend.contains("cuda") ? "cuda" : backend);
    out.put("threads", spec.threads);
    out.put("batch_size", b);
    out.put("prompt_tokens", p);
    out.put("new_tokens", n);
  }

  private static void tail(ObjectNode out, Spec spec, Timings t) {
    var a = out.putArray("iteration_seconds");
    t.seconds.forEach(s -> a.add(round(s, 4)));
    num(out, "other_cpu_pct", 100 * t.otherBusyOfBest(), 1);
    out.put("iterations", spec.iterations);
    out.put("warmup", spec.warmup);
    out.put("kernels", spec.kernels);
    out.put("weights", spec.weights);
    out.put("cpu", ProcessStats.cpuModel());
    out.put("cores", Runtime.getRuntime().availableProcessors());
    out.put("java", System.getProperty("java.version"));
    out.put("date", java.time.LocalDate.now().toString());
  }

  private static void putOrNull(ObjectNode out, String key, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      out.putNull(key);
    } else if (Math.abs(v) >= 1e6) {
      out.put(key, Math.round(v)); // plain digits, not 1.2E7
    } else {
      out.put(key, v);
    }
  }

  /** A number rounded to {@code digits} decimals (null when not finite). */
  private static void num(ObjectNode out, String key, double v, int digits) {
    putOrNull(out, key, round(v, digits));
  }

  static double round(double v, int digits) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return v;
    }
    double scale = Math.pow(10, digits);
    return Math.round(v * scale) / scale;
  }
}
