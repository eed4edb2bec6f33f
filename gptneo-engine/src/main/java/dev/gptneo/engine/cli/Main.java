package dev.gptneo.engine.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.api.HubCache;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.ModelInfo;
import dev.gptneo.engine.api.Truncation;
import dev.gptneo.engine.generate.GenerationDefaults;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.generate.SettingForms;
import dev.gptneo.engine.tokenizer.TokenizerException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code bin/gptneo COMMAND --model DIR [--input FILE|-] [--output FILE|-] [flags]}: JSONL in,
 * JSONL out, one output line per input line. Exit status: 0 done (bad lines get error lines),
 * 1 the model or a file cannot be used, 2 a bad command line.
 */
public final class Main {
  static final String USAGE = String.join("\n",
      "usage: bin/gptneo COMMAND --model DIR [--input FILE|-] [--output FILE|-] [--batch-size N] [--threads N]",
      "                  [--max-input-tokens N] [--truncation error|left|right] [command flags]",
      "",
      "commands (JSONL in, one JSONL line out per input line, keeping \"id\"):",
      "  generate        {\"prompt\"|\"text\"|\"input_ids\"} -> {id, text, completion_ids, finish_reason,",
      "                  prompt_tokens, completion_tokens}",
      "                  --max-new-tokens N (64)  --min-new-tokens N  --greedy (default)  --temperature T",
      "                  --max-length N  --min-length N  (HF's: prompt included; --max-new-tokens wins)",
      "                  --top-k K (50 when sampling)  --top-p P  --seed S  --repetition-penalty R",
      "                  --no-repeat-ngram-size N  --stop STR (repeatable)  --stop-token-id ID (repeatable)",
      "                  --eos-token-id IDS  HF's eos_token_id: replaces the model's eos ids",
      "                  --min-p P  --typical-p P  --epsilon-cutoff E  --eta-cutoff E  --top-h H  (HF's filters)",
      "                  (--temperature, --top-k, --top-p, --min-p, --typical-p, --top-h, the cutoffs: sampling on)",
      "                  --suppress-tokens IDS (never chosen)  --begin-suppress-tokens IDS (not chosen first)",
      "                  (IDS: comma-separated, e.g. 50256,198)  --bad-words-ids JSON  token sequences never",
      "                  completed, e.g. [[1, 2], [3]] (HF's bad_words_ids)  --sequence-bias JSON  e.g.",
      "                  [[[1, 2], -3.5]]  --exponential-decay-length-penalty START,FACTOR  e.g. 10,1.05",
      "                  --num-beams N (beam search; beam sampling with sampling flags)  --length-penalty L (1.0)",
      "                  --early-stopping true|false|never (false)",
      "                  --skip-special-tokens  leave <|endoftext|> out of \"text\" (ids keep it)",
      "                  --num-return-sequences N  samples (or best beams) per row, in \"sequences\"",
      "                  --logprobs  each generated token's log-probability, in \"token_logprobs\"",
      "                  (a model's generation_config.json sets the defaults, as in HF's generate())",
      "  classify        {\"text\"|\"input_ids\"} -> {id, label, probabilities, logits}",
      "                  --labels a,b,c  zero-shot with the LM head instead of the classification head",
      "  token-classify  {\"text\"|\"input_ids\"} -> {id, labels, logits}",
      "  answer          {\"question\", \"context\"}|{\"input_ids\"} -> {id, answer, start, end, score,",
      "                  start_logits, end_logits}   --max-answer-tokens N (15, HF's max_answer_len)",
      "  embed           {\"text\"|\"input_ids\"} -> {id, embedding}   --pooling mean|last (mean)",
      "  score           {\"text\"|\"input_ids\"} -> {id, token_logprobs, mean_logprob, perplexity}",
      "  tokenize        {\"text\"} -> {id, input_ids}",
      "  info            a JSON summary of the model",
      "  bench           the benchmark (bin/gptneo bench --help)",
      "",
      "engine flags: --kernels auto|vector|scalar  --device cpu|cuda|auto|cuda:N  --max-batch-tokens N",
      "              --weights auto|packed|mapped (CPU: packed on the heap when they fit in half of it)",
      "              --kv-cache-fraction F (GPU: share of free device memory for the KV cache, default 0.9)",
      "--model DIR: a Hugging Face GPT-Neo folder, or a Hub id (ORG/NAME[@REVISION]) that HF's local cache",
      "              already holds (HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub); nothing is downloaded",
      "Logs go to stderr. Exit status: 0 ok, 1 model/file problem, 2 bad command line.");

  private static final Set<String> COMMON = Set.of("model", "input", "output", "batch-size", "threads",
      "max-input-tokens", "truncation", "kernels", "weights", "device", "max-batch-tokens",
      "kv-cache-fraction");
  private static final Set<String> GENERATE = Set.of("max-new-tokens", "min-new-tokens", "temperature", "top-k",
      "top-p", "seed", "repetition-penalty", "no-repeat-ngram-size", "stop", "stop-token-id", "num-beams",
      "length-penalty", "early-stopping", "num-return-sequences", "min-p", "top-h", "typical-p", "epsilon-cutoff",
      "eta-cutoff", "suppress-tokens", "begin-suppress-tokens", "bad-words-ids", "sequence-bias", "max-length",
      "min-length", "exponential-decay-length-penalty", "eos-token-id");

  /** The flags that turn sampling on (unless --greedy). */
  private static final List<String> SAMPLING = List.of("temperature", "top-k", "top-p", "min-p", "top-h", "typical-p",
      "epsilon-cutoff", "eta-cutoff");

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.in, System.out, System.err));
  }

  /** Runs a command with the given streams; returns the exit status. */
  public static int run(String[] args, InputStream stdin, PrintStream stdout, PrintStream stderr) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      (args.length == 0 ? stderr : stdout).println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String command = args[0];
    try {
      if (command.equals("bench")) {
        return BenchCommand.run(Arrays.copyOfRange(args, 1, args.length), stdout, stderr);
      }
      Flags flags = parseFlags(command, args);
      if (flags.has("help")) {
        stdout.println(USAGE);
        return 0;
      }
      return execute(command, flags, stdin, stdout);
    } catch (UsageException e) {
      stderr.println("gptneo: " + e.getMessage());
      stderr.println();
      stderr.println(USAGE);
      return 2;
    } catch (ModelException | TokenizerException e) {
      stderr.println("gptneo: " + e.getMessage());
      return 1;
    } catch (IllegalArgumentException e) {
      // a setting the engine refuses once it sees the model or the machine (e.g. --device cuda here)
      stderr.println("gptneo: " + e.getMessage());
      return 1;
    } catch (IOException e) {
      stderr.println("gptneo: " + (e instanceof NoSuchFileException ? "no such file: " : "") + e.getMessage());
      return 1;
    }
  }

  private static Flags parseFlags(String command, String[] args) {
    Set<String> valued = new HashSet<>(COMMON);
    Set<String> booleans = new HashSet<>(Set.of("help"));
    switch (command) {
      case "generate":
        valued.addAll(GENERATE);
        booleans.add("greedy");
        booleans.add("skip-special-tokens");
        booleans.add("logprobs");
        break;
      case "classify":
        valued.add("labels");
        break;
      case "answer":
        valued.add("max-answer-tokens");
        break;
      case "embed":
        valued.add("pooling");
        break;
      case "token-classify":
      case "score":
      case "tokenize":
      case "info":
        break;
      default:
        throw new UsageException("unknown command '" + command + "'");
    }
    return Flags.parse(command, args, 1, valued, booleans, Set.of("stop", "stop-token-id"));
  }

  private static int execute(String command, Flags flags, InputStream stdin, PrintStream stdout) throws IOException {
    String model = flags.get("model", null);
    if (model == null) {
      throw new UsageException("--model DIR is required (a Hugging Face GPT-Neo folder, e.g."
          + " datasets-sample/models/gpt-neo-demo, or a Hub id such as EleutherAI/gpt-neo-125M that HF's cache holds)");
    }
    EngineOptions options = engineOptions(flags);
    InputPolicy policy = inputPolicy(flags);
    Path modelDir = HubCache.resolve(model); // a folder, or a Hub id already in HF's cache
    int batchSize = flags.getInt("batch-size", 32, 1);
    // Validate every flag before the model loads, so a typo fails fast.
    JsonlRows.Task[] task = new JsonlRows.Task[1];
    GenerationParams params = command.equals("generate")
        ? generationParams(flags, GenerationDefaults.load(modelDir)) : null;
    List<String> labels = flags.has("labels") ? labels(flags.get("labels", "")) : null;
    int maxAnswer = flags.getInt("max-answer-tokens", 15, 1);
    String pooling = flags.get("pooling", "mean");
    if (!pooling.equals("mean") && !pooling.equals("last")) {
      throw new UsageException("--pooling must be mean or last, got '" + pooling + "'");
    }
    try (Engine engine = Engine.open(modelDir, options)) {
      if (command.equals("info")) {
        stdout.println(JsonlRows.JSON.writeValueAsString(InfoJson.of(engine.info())));
        return 0;
      }
      try {
        switch (command) {
          case "generate":
            task[0] = RowTasks.generate(engine, params, policy);
            break;
          case "classify":
            task[0] = RowTasks.classify(engine, labels, policy);
            break;
          case "token-classify":
            task[0] = RowTasks.tokenClassify(engine, policy);
            break;
          case "answer":
            task[0] = RowTasks.answer(engine, maxAnswer, policy);
            break;
          case "embed":
            task[0] = RowTasks.embed(engine, pooling.equals("last"), policy);
            break;
          case "score":
            task[0] = RowTasks.score(engine, policy);
            break;
          default:
            task[0] = RowTasks.tokenize(engine, policy);
        }
        try (BufferedReader in = reader(flags.get("input", "-"), stdin);
            Writer out = writer(flags.get("output", "-"), stdout)) {
          JsonlRows.process(in, out, batchSize, task[0]);
        }
      } catch (IllegalArgumentException e) {
        // a task the model cannot do (no such head, no tokenizer): not a line's fault
        throw new ModelException(e.getMessage());
      }
    }
    return 0;
  }

  static EngineOptions engineOptions(Flags flags) {
    EngineOptions.Builder b = EngineOptions.builder();
    try {
      if (flags.has("threads")) {
        b.threads(flags.getInt("threads", 1, 1));
      }
      b.kernels(flags.get("kernels", "auto")).weights(flags.get("weights", "auto")).device(flags.get("device", "cpu"));
      if (flags.has("max-batch-tokens")) {
        b.maxBatchTokens(flags.getInt("max-batch-tokens", 512, 1));
      }
      if (flags.has("kv-cache-fraction")) {
        b.kvCacheFraction(flags.getDouble("kv-cache-fraction", 0.9));
      }
      if (flags.has("batch-size")) {
        b.maxBatchSequences(Math.max(1, flags.getInt("batch-size", 32, 1)));
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  static InputPolicy inputPolicy(Flags flags) {
    try {
      return new InputPolicy(flags.getInt("max-input-tokens", 0, 1),
          Truncation.parse(flags.get("truncation", "error")));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /** The flags over the model's own defaults (generation_config.json, as HF's generate() applies them). */
  static GenerationParams generationParams(Flags flags, GenerationDefaults defaults) {
    boolean sample = !flags.has("greedy") && (SAMPLING.stream().anyMatch(flags::has) || defaults.sampling);
    GenerationParams base = defaults.params;
    GenerationParams.Builder b = base.toBuilder()
        .doSample(sample)
        .temperature(flags.getDouble("temperature", base.temperature))
        .topK(flags.getInt("top-k", base.topK, 0))
        .topP(flags.getDouble("top-p", base.topP))
        .seed(flags.getLong("seed", 0))
        .repetitionPenalty(flags.getDouble("repetition-penalty", base.repetitionPenalty))
        .noRepeatNgramSize(flags.getInt("no-repeat-ngram-size", base.noRepeatNgramSize, 0))
        .numBeams(flags.getInt("num-beams", base.numBeams, 1))
        .lengthPenalty(flags.getDouble("length-penalty", base.lengthPenalty))
        .earlyStopping(flags.get("early-stopping", base.earlyStopping))
        .skipSpecialTokens(flags.has("skip-special-tokens"))
        .numReturnSequences(flags.getInt("num-return-sequences", 1, 1))
        .logprobs(flags.has("logprobs"))
        .minP(flags.getDouble("min-p", base.minP))
        .topH(flags.getDouble("top-h", base.topH))
        .typicalP(flags.getDouble("typical-p", base.typicalP))
        .epsilonCutoff(flags.getDouble("epsilon-cutoff", base.epsilonCutoff))
        .etaCutoff(flags.getDouble("eta-cutoff", base.etaCutoff));
    if (flags.has("max-new-tokens")) { // given, it wins over max_length (a flag's or the file's), as in HF
      b.maxNewTokens(flags.getInt("max-new-tokens", 0, 1));
    }
    if (flags.has("min-new-tokens")) {
      b.minNewTokens(flags.getInt("min-new-tokens", 0, 0));
    }
    if (flags.has("max-length")) {
      b.maxLength(flags.getInt("max-length", 0, 1));
    }
    if (flags.has("min-length")) {
      b.minLength(flags.getInt("min-length", 0, 0));
    }
    for (String key : SettingForms.KEYS) { // suppressed tokens, bad words, sequence bias, length decay, eos
      String flag = key.replace('_', '-');
      if (flags.has(flag)) {
        try {
          SettingForms.apply(key, flags.get(flag, ""), b);
        } catch (IllegalArgumentException e) {
          throw new UsageException("--" + flag + e.getMessage().substring(key.length()));
        }
      }
    }
    if (flags.has("stop")) {
      b.stopStrings(flags.all("stop"));
    }
    List<String> stopIds = flags.all("stop-token-id");
    int[] ids = new int[stopIds.size()];
    for (int i = 0; i < ids.length; i++) {
      try {
        ids[i] = Integer.parseInt(stopIds.get(i).trim());
      } catch (NumberFormatException e) {
        throw new UsageException("--stop-token-id must be an integer, got '" + stopIds.get(i) + "'");
      }
    }
    if (ids.length > 0) {
      b.stopTokenIds(ids);
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage().replace('_', '-').replace("max-new-tokens", "--max-new-tokens"));
    }
  }

  private static List<String> labels(String csv) {
    List<String> labels = new java.util.ArrayList<>();
    for (String s : csv.split(",")) {
      if (labels.contains(s.strip())) {
        throw new UsageException("--labels names '" + s.strip() + "' twice; labels must be distinct");
      }
      if (!s.isBlank()) {
        labels.add(s.strip());
      }
    }
    if (labels.isEmpty()) {
      throw new UsageException("--labels needs at least one label, e.g. --labels spam,ham");
    }
    return labels;
  }

  private static BufferedReader reader(String path, InputStream stdin) throws IOException {
    InputStream in = path.equals("-") ? stdin : Files.newInputStream(Path.of(path));
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
  }

  private static Writer writer(String path, PrintStream stdout) throws IOException {
    OutputStream out = path.equals("-") ? new NonClosing(stdout) : Files.newOutputStream(Path.of(path));
    return new OutputStreamWriter(out, StandardCharsets.UTF_8);
  }

  /** Keeps stdout open when the writer closes. */
  private static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }

  /** The info command's JSON. */
  static final class InfoJson {
    private InfoJson() {}

    static ObjectNode of(ModelInfo info) {
      ObjectNode o = JsonlRows.JSON.createObjectNode();
      o.put("path", info.path.toString());
      o.put("model_type", "gpt_neo");
      o.put("parameters", info.parameters);
      o.put("weight_dtype", info.weightDtype);
      o.put("weight_bytes", info.weightBytes);
      o.put("num_layers", info.config.numLayers);
      o.put("hidden_size", info.config.hiddenSize);
      o.put("num_heads", info.config.numHeads);
      o.put("intermediate_size", info.config.intermediateSize);
      o.put("window_size", info.config.windowSize);
      o.put("vocab_size", info.config.vocabSize);
      o.put("max_position_embeddings", info.config.maxPositionEmbeddings);
      var layers = o.putArray("attention_layers");
      info.config.layerTypes.forEach(t -> layers.add(t.name().toLowerCase(java.util.Locale.ROOT)));
      o.put("activation_function", info.config.activation.hfName);
      o.put("tokenizer", info.hasTokenizer);
      o.put("lm_head_tied", info.lmHeadTied);
      if (info.sequenceLabels != null) {
        var a = o.putArray("sequence_classification_labels");
        info.sequenceLabels.forEach(a::add);
      }
      if (info.tokenLabels != null) {
        var a = o.putArray("token_classification_labels");
        info.tokenLabels.forEach(a::add);
      }
      o.put("question_answering", info.hasQaHead);
      ObjectNode tasks = o.putObject("tasks");
      info.tasks.forEach(tasks::put);
      o.put("backend", info.backend);
      o.put("threads", info.threads);
      return o;
    }
  }
}
