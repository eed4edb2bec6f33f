package dev.gptneo.engine.api;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.batching.Scheduler;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.generate.BeamSearch;
import dev.gptneo.engine.generate.GenerateJob;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.generate.Sampler;
import dev.gptneo.engine.model.GptNeoModel;
import dev.gptneo.engine.model.GptNeoWeights;
import dev.gptneo.engine.ops.Backends;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.tasks.EmbedJob;
import dev.gptneo.engine.tasks.HeadRowsJob;
import dev.gptneo.engine.tasks.ScoreJob;
import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import dev.gptneo.engine.weights.Checkpoint;
import dev.gptneo.engine.weights.TensorView;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded GPT-Neo model and the scheduler that runs it. Thread-safe: any number of callers may
 * call at once; their rows share the same forward steps. Each call takes a list of rows and returns
 * one result per row, in order: null for a null input, a result with {@code error} set for a row
 * that cannot run, and never an exception for one bad row.
 */
public final class Engine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Engine.class);

  private final Path path;
  private final GptNeoConfig config;
  private final Optional<Gpt2Tokenizer> tokenizer;
  private final Ops ops;
  private final GptNeoWeights weights;
  private final Scheduler scheduler;
  private final ModelInfo info;
  private final EngineOptions options;
  private final dev.gptneo.engine.generate.GenerationDefaults generationDefaults;

  private Engine(Path path, EngineOptions options) {
    long t0 = System.nanoTime();
    this.path = path.toAbsolutePath().normalize();
    this.options = options;
    this.config = GptNeoConfig.load(path);
    Checkpoint checkpoint = Checkpoint.open(path);
    this.tokenizer = Gpt2Tokenizer.load(path);
    this.generationDefaults = dev.gptneo.engine.generate.GenerationDefaults.load(path);
    if (!generationDefaults.ignored.isEmpty()) {
      LOG.warn("{}: settings HF's generate() would apply that gptneo does not implement, ignored: {}",
          dev.gptneo.engine.generate.GenerationDefaults.FILE, generationDefaults.ignored);
    }
    generationDefaults.warnings.forEach(LOG::warn);
    this.ops = Backends.create(options, checkpoint.totalBytes());
    try {
      this.weights = new GptNeoWeights(config, checkpoint, ops);
      boolean onDevice = ops.freeDeviceBytes() >= 0;
      // on a GPU one LM-head GEMM per step reads the head's weights once for the whole batch
      int headRows = onDevice ? Math.max(options.maxHeadRows, Math.min(options.maxBatchSequences, 256))
          : options.maxHeadRows;
      GptNeoModel model = new GptNeoModel(config, weights, ops, options.maxBatchTokens, headRows);
      long freeDevice = ops.freeDeviceBytes(); // after the weights and activations
      long kvBudget = options.kvCacheBudget(freeDevice);
      if (freeDevice >= 0) {
        LOG.info("KV cache budget {} MiB ({}; {} MiB free on the device)", kvBudget >> 20,
            options.kvCacheBytesSet ? "kvCacheBytes" : "kv-cache fraction " + options.kvCacheFraction, freeDevice >> 20);
      }
      this.scheduler = new Scheduler(model, options.maxBatchSequences, kvBudget);
    } catch (RuntimeException e) {
      ops.close();
      throw e;
    }
    this.info = describe(checkpoint);
    LOG.info("loaded {} ({}, {} parameters, {}) in {} ms; tokenizer: {}; generation defaults: {}", this.path, config,
        info.parameters, info.weightDtype, (System.nanoTime() - t0) / 1_000_000,
        tokenizer.isPresent() ? "yes" : "none (token ids only)", generationDefaults);
  }

  /** Loads a Hugging Face GPT-Neo folder (config.json, safetensors, tokenizer files). */
  public static Engine open(Path modelDir, EngineOptions options) {
    return new Engine(modelDir, options);
  }

  public static Engine open(Path modelDir) {
    return open(modelDir, EngineOptions.defaults());
  }

  /**
   * The model's generation defaults (generation_config.json, as HF's generate() applies them), the
   * base that a call's own settings override; GenerationParams' defaults without the file.
   */
  public dev.gptneo.engine.generate.GenerationDefaults generationDefaults() {
    return generationDefaults;
  }

  public GptNeoConfig config() {
    return config;
  }

  public Optional<Gpt2Tokenizer> tokenizer() {
    return tokenizer;
  }

  public ModelInfo info() {
    return info;
  }

  public EngineOptions options() {
    return options;
  }

  /** Scheduler counters: forward steps, tokens run through the model, busy time. */
  public Scheduler scheduler() {
    return scheduler;
  }

  // ---- generate -------------------------------------------------------------------------------

  public List<GenerateResult> generate(List<Input> inputs, GenerationParams params, InputPolicy policy) {
    return generate(inputs, Collections.nCopies(inputs.size(), params), policy);
  }

  /**
   * Generates a completion per row, each with its own parameters (and seed). A row that asks for
   * several samples (num_return_sequences) runs as that many rows, sample j with seed
   * {@link Sampler#sequenceSeed}; beam search returns its best hypotheses itself.
   */
  public List<GenerateResult> generate(List<Input> inputs, List<GenerationParams> params, InputPolicy policy) {
    requireSameSize(inputs, params);
    List<Input> rows = new ArrayList<>();
    List<GenerationParams> rowParams = new ArrayList<>();
    int[] firstRow = new int[inputs.size() + 1]; // (inputs + 1) where each input's samples start in rows
    for (int i = 0; i < inputs.size(); i++) {
      GenerationParams p = params.get(i);
      int samples = p.numBeams == 1 ? p.numReturnSequences : 1;
      firstRow[i] = rows.size();
      for (int j = 0; j < samples; j++) {
        rows.add(inputs.get(i));
        rowParams.add(samples == 1 ? p
            : p.toBuilder().numReturnSequences(1).seed(Sampler.sequenceSeed(p.seed, j)).build());
      }
    }
    firstRow[inputs.size()] = rows.size();
    if (rows.size() == inputs.size()) {
      return generateRows(inputs, params, policy);
    }
    List<GenerateResult> all = generateRows(rows, rowParams, policy);
    List<GenerateResult> out = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      out.add(GenerateResult.of(all.subList(firstRow[i], firstRow[i + 1])));
    }
    return out;
  }

  /** As HF (SequenceBiasLogitsProcessor), a bad word or biased sequence with an id outside the vocabulary fails. */
  private String outsideVocab(GenerationParams p) {
    String bad = outsideVocab("bad_words_ids", p.badWordsIds);
    return bad != null ? bad : outsideVocab("sequence_bias", p.biasedSequences);
  }

  private String outsideVocab(String setting, int[][] sequences) {
    for (int[] sequence : sequences) {
      for (int t : sequence) {
        if (t >= config.vocabSize) {
          return setting + " holds token id " + t + ", outside the model's vocabulary of " + config.vocabSize
              + "; give ids below " + config.vocabSize;
        }
      }
    }
    return null;
  }

  private List<GenerateResult> generateRows(List<Input> inputs, List<GenerationParams> requested,
      InputPolicy policy) {
    // a prompt may fill every position: its last row gives a token, which is never fed
    int limit = config.maxPositionEmbeddings;
    String why = "max_position_embeddings " + config.maxPositionEmbeddings;
    List<GenerateResult> out = new ArrayList<>(Collections.nCopies(inputs.size(), null));
    List<int[]> prompts = new ArrayList<>();
    List<int[]> plain = new ArrayList<>(Collections.nCopies(inputs.size(), null)); // rows without beams
    Map<Integer, BeamSearch> beams = new java.util.TreeMap<>(); // rows with num_beams > 1
    List<GenerationParams> params = new ArrayList<>(requested); // per prompt: forPrompt applied
    for (int i = 0; i < inputs.size(); i++) {
      PreparedInput in = prepare(inputs.get(i), limit, policy, why);
      prompts.add(in.ids);
      String lengths = null;
      if (in.ids != null) {
        try {
          params.set(i, params.get(i).forPrompt(in.ids.length)); // max_length / min_length to new tokens
        } catch (IllegalArgumentException e) {
          lengths = e.getMessage();
        }
      }
      String outside = in.isNull() ? null : outsideVocab(params.get(i));
      if (in.error != null || lengths != null) {
        out.set(i, GenerateResult.failed(in.error != null ? in.error : lengths));
      } else if (outside != null) {
        out.set(i, GenerateResult.failed(outside));
      } else if (!in.isNull() && params.get(i).numBeams > 1) {
        GenerationParams p = params.get(i);
        beams.put(i, new BeamSearch(in.ids, p, p.eosOr(config.eosTokenIds), config.vocabSize,
            config.maxPositionEmbeddings));
      } else if (!in.isNull()) {
        plain.set(i, in.ids);
      }
    }
    try (SharedStarts shared = new SharedStarts(scheduler, ops)) {
      SequenceCache[] starts = shared.run(plain);
      List<CompletableFuture<GenerateJob.Output>> futures = new ArrayList<>(Collections.nCopies(inputs.size(), null));
      try (Scheduler.Hold hold = scheduler.hold()) { // the rows reach the scheduler together
        for (int i = 0; i < inputs.size(); i++) {
          if (plain.get(i) == null) {
            continue;
          }
          GenerationParams p = params.get(i);
          int[] ids = plain.get(i);
          // as HF: one token past the positions, since the last one is never fed
          int capacity = (int) Math.min(config.maxPositionEmbeddings + 1L, (long) ids.length + p.maxNewTokens);
          try {
            GenerateJob job = new GenerateJob(ids, capacity, p, p.eosOr(config.eosTokenIds),
                tokenizer.map(t -> (java.util.function.IntFunction<byte[]>) t::tokenBytes).orElse(null));
            if (starts[i] != null) {
              job.startFrom(starts[i]);
            }
            futures.set(i, scheduler.submit(job));
          } catch (IllegalArgumentException e) {
            out.set(i, GenerateResult.failed(e.getMessage()));
          }
        }
      }
      new BeamRuns(scheduler, ops, config, this::decode).run(beams, prompts, out);
      for (int i = 0; i < inputs.size(); i++) {
        if (futures.get(i) == null) {
          continue;
        }
        try {
          GenerateJob.Output o = RowWait.await(futures.get(i));
          String text = decode(o.completionIds, params.get(i).skipSpecialTokens);
          out.set(i, new GenerateResult(text, o.completionIds, o.finishReason, prompts.get(i).length,
              o.tokenLogprobs));
        } catch (RowWait.RowFailure e) {
          out.set(i, GenerateResult.failed(e.getMessage()));
        }
      }
    }
    return out;
  }

  // ---- classify -------------------------------------------------------------------------------

  /**
   * Classifies with the model's sequence-classification head (score.weight), pooled as HF's
   * GPTNeoForSequenceClassification pools: at the rightmost token that is not pad_token_id (the
   * last token when the config has no pad id; the first when every token is a pad).
   */
  public List<ClassifyResult> classify(List<Input> inputs, InputPolicy policy) {
    requireHead(weights.score, "sequence classification", "score.weight",
        "; pass candidate labels for zero-shot classification with the LM head instead");
    List<String> labels = labelNames(weights.score.rows());
    int width = weights.score.rows();
    int pad = config.padTokenId;
    return runPerRow(inputs, policy,
        ids -> new HeadRowsJob(withoutTrailingPads(ids, pad), Head.SEQUENCE_CLASSIFIER, width, true),
        (ids, logits) -> new ClassifyResult(labels, logits, ids.length, ClassifyResult.Scores.of(config.problemType)),
        ClassifyResult::failed);
  }

  /**
   * Causal attention: the hidden state at the last non-pad token does not depend on the pads
   * after it, so dropping them pools where HF pools.
   */
  static int[] withoutTrailingPads(int[] ids, int pad) {
    int n = ids.length;
    while (pad >= 0 && n > 1 && ids[n - 1] == pad) {
      n--;
    }
    return n == ids.length ? ids : Arrays.copyOf(ids, n);
  }

  /**
   * Zero-shot classification with the LM head: each label is scored by the summed log-likelihood
   * of its tokens (the label with a leading space) right after the text; probabilities are the
   * softmax of those scores.
   */
  public List<ClassifyResult> classifyZeroShot(List<Input> inputs, List<String> labels, InputPolicy policy) {
    if (labels == null || labels.isEmpty()) {
      throw new IllegalArgumentException("zero-shot classification needs at least one candidate label");
    }
    Gpt2Tokenizer tok = tokenizer.orElseThrow(() -> new IllegalArgumentException(
        "zero-shot classification tokenizes its labels, and this model folder has no tokenizer"));
    int[][] labelIds = new int[labels.size()][];
    int longest = 0;
    for (int j = 0; j < labels.size(); j++) {
      String label = labels.get(j);
      if (label == null || label.isBlank()) {
        throw new IllegalArgumentException("candidate labels must not be empty");
      }
      if (labels.subList(0, j).contains(label)) {
        throw new IllegalArgumentException("candidate label '" + label + "' is given twice; labels must be distinct");
      }
      labelIds[j] = tok.encode(" " + label.strip());
      longest = Math.max(longest, labelIds[j].length);
    }
    int limit = config.maxPositionEmbeddings - longest;
    String why = "max_position_embeddings " + config.maxPositionEmbeddings + " minus the longest label's "
        + longest + " tokens";
    List<ClassifyResult> out = new ArrayList<>(Collections.nCopies(inputs.size(), null));
    int[][] texts = new int[inputs.size()][];
    String[] errors = new String[inputs.size()];
    for (int i = 0; i < inputs.size(); i++) {
      PreparedInput in = prepare(inputs.get(i), limit, policy, why);
      if (in.error != null) {
        out.set(i, ClassifyResult.failed(in.error));
      } else if (!in.isNull()) {
        texts[i] = in.ids;
      }
    }
    float[][] scores = new ZeroShotRuns(scheduler, ops).run(texts, labelIds, errors);
    for (int i = 0; i < inputs.size(); i++) {
      if (errors[i] != null) {
        out.set(i, ClassifyResult.failed(errors[i]));
      } else if (scores[i] != null) {
        out.set(i, new ClassifyResult(labels, scores[i], texts[i].length));
      }
    }
    return out;
  }

  // ---- token classification, embeddings, scores, tokenize ----------------------------------------

  public List<TokenClassifyResult> tokenClassify(List<Input> inputs, InputPolicy policy) {
    requireHead(weights.classifier, "token classification", "classifier.weight", "");
    int width = weights.classifier.rows();
    List<String> labels = labelNames(width);
    return runPerRow(inputs, policy, ids -> new HeadRowsJob(ids, Head.TOKEN_CLASSIFIER, width, false),
        (ids, rows) -> TaskResults.tokenClassify(ids, rows, width, labels, tokenizer.orElse(null)),
        TokenClassifyResult::failed);
  }

  public List<EmbedResult> embed(List<Input> inputs, InputPolicy policy) {
    return runPerRow(inputs, policy, ids -> new EmbedJob(ids, config.hiddenSize),
        (ids, pooled) -> new EmbedResult(pooled[0], pooled[1], ids.length), EmbedResult::failed);
  }

  public List<ScoreResult> score(List<Input> inputs, InputPolicy policy) {
    return runPerRow(inputs, policy, ids -> ids.length == 1 ? null : new ScoreJob(ids, 1),
        (ids, logProbs) -> new ScoreResult(ids, logProbs == null ? new double[0] : logProbs), ScoreResult::failed);
  }

  /**
   * Token ids of each text. Only {@code max_input_tokens} limits the length here (tokenizing is not
   * bounded by the model's context), and an empty text gives no ids rather than an error.
   */
  public List<TokenizeResult> tokenize(List<Input> inputs, InputPolicy policy) {
    List<TokenizeResult> out = new ArrayList<>(inputs.size());
    int limit = policy.maxInputTokens == 0 ? Integer.MAX_VALUE : policy.maxInputTokens;
    for (Input input : inputs) {
      if (input != null && input.isText() && input.text() != null && input.text().isEmpty() && tokenizer.isPresent()) {
        out.add(new TokenizeResult(new int[0]));
        continue;
      }
      PreparedInput in = PreparedInput.of(input, tokenizer, config.vocabSize, limit, policy,
          "max_input_tokens " + policy.maxInputTokens);
      out.add(in.isNull() ? null : in.error != null ? TokenizeResult.failed(in.error) : new TokenizeResult(in.ids));
    }
    return out;
  }

  // ---- question answering --------------------------------------------------------------------

  /** Extractive QA with the qa_outputs head over question + context tokens. */
  public List<AnswerResult> answer(List<QaInput> inputs, int maxAnswerTokens, InputPolicy policy) {
    requireHead(weights.qaOutputs, "question answering", "qa_outputs.weight", "");
    if (maxAnswerTokens < 1) {
      throw new IllegalArgumentException("max_answer_tokens must be >= 1, got " + maxAnswerTokens);
    }
    List<AnswerResult> out = new ArrayList<>(Collections.nCopies(inputs.size(), null));
    List<CompletableFuture<float[]>> futures = new ArrayList<>();
    List<QaEncoding> encodings = new ArrayList<>();
    try (Scheduler.Hold hold = scheduler.hold()) { // the rows reach the scheduler together
      for (int i = 0; i < inputs.size(); i++) {
        futures.add(null);
        QaEncoding enc = QaEncoding.of(inputs.get(i), tokenizer, config, policy);
        encodings.add(enc);
        if (enc == null) {
          continue;
        }
        if (enc.error != null) {
          out.set(i, AnswerResult.failed(enc.error));
        } else {
          futures.set(i, scheduler.submit(new HeadRowsJob(enc.ids, Head.QUESTION_ANSWERING, 2, false)));
        }
      }
    }
    for (int i = 0; i < inputs.size(); i++) {
      if (futures.get(i) == null) {
        continue;
      }
      try {
        out.set(i, encodings.get(i).bestSpan(RowWait.await(futures.get(i)), maxAnswerTokens, tokenizer.orElse(null)));
      } catch (RowWait.RowFailure e) {
        out.set(i, AnswerResult.failed(e.getMessage()));
      }
    }
    return out;
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private interface JobFactory<J> {
    Job<J> create(int[] ids);
  }

  private interface ResultBuilder<J, R> {
    R build(int[] ids, J jobResult);
  }

  /** Prepares each row, submits all jobs, then waits and builds results in order. */
  private <J, R> List<R> runPerRow(List<Input> inputs, InputPolicy policy, JobFactory<J> factory,
      ResultBuilder<J, R> builder, java.util.function.Function<String, R> failed) {
    List<R> out = new ArrayList<>(Collections.nCopies(inputs.size(), null));
    List<CompletableFuture<J>> futures = new ArrayList<>();
    List<int[]> ids = new ArrayList<>();
    try (Scheduler.Hold hold = scheduler.hold()) { // the rows reach the scheduler together
      for (int i = 0; i < inputs.size(); i++) {
        PreparedInput in = prepare(inputs.get(i), config.maxPositionEmbeddings, policy, limitReason());
        futures.add(null);
        ids.add(in.ids);
        if (in.error != null) {
          out.set(i, failed.apply(in.error));
        } else if (!in.isNull()) {
          Job<J> job = factory.create(in.ids);
          futures.set(i, job == null ? CompletableFuture.completedFuture(null) : scheduler.submit(job));
        }
      }
    }
    for (int i = 0; i < inputs.size(); i++) {
      if (futures.get(i) == null) {
        continue;
      }
      try {
        out.set(i, builder.build(ids.get(i), RowWait.await(futures.get(i))));
      } catch (RowWait.RowFailure e) {
        out.set(i, failed.apply(e.getMessage()));
      }
    }
    return out;
  }

  private PreparedInput prepare(Input input, int limit, InputPolicy policy, String why) {
    int effective = policy.limit(limit);
    String reason = effective < limit ? "max_input_tokens " + policy.maxInputTokens : why;
    return PreparedInput.of(input, tokenizer, config.vocabSize, effective, policy, reason);
  }

  private String limitReason() {
    return "max_position_embeddings " + config.maxPositionEmbeddings;
  }

  /** HF's tokenizer.decode: special tokens (eos) are kept, so text and ids agree, unless skipped. */
  private String decode(int[] ids, boolean skipSpecialTokens) {
    return tokenizer.map(t -> t.decode(ids, 0, ids.length, skipSpecialTokens)).orElse(null);
  }

  private List<String> labelNames(int count) {
    List<String> names = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      names.add(count == config.numLabels() ? config.id2label.get(i) : "LABEL_" + i);
    }
    return names;
  }

  private static void requireHead(Ops.Matrix head, String task, String tensor, String hint) {
    if (head == null) {
      throw new IllegalArgumentException("this model has no " + task + " head (no " + tensor
          + " in its checkpoint)" + hint);
    }
  }

  private static void requireSameSize(List<?> a, List<?> b) {
    if (a.size() != b.size()) {
      throw new IllegalArgumentException("got " + a.size() + " inputs but " + b.size() + " option sets");
    }
  }

  private ModelInfo describe(Checkpoint checkpoint) {
    long params = 0;
    java.util.Set<String> dtypes = new java.util.TreeSet<>();
    for (TensorView t : checkpoint.tensors().values()) {
      if (!t.name.endsWith("attn.attention.bias") && !t.name.endsWith("attn.attention.masked_bias")) {
        params += t.numel();
        dtypes.add(t.dtype.name());
      }
    }
    Map<String, String> tasks = new LinkedHashMap<>();
    tasks.put("generate", "lm head" + (weights.lmHeadTied ? " (tied to wte)" : ""));
    tasks.put("classify", weights.score != null ? "score head" : "zero-shot with labels only");
    tasks.put("token-classify", weights.classifier != null ? "classifier head" : "unavailable: no classifier head");
    tasks.put("answer", weights.qaOutputs != null ? "qa_outputs head" : "unavailable: no qa_outputs head");
    tasks.put("embed", "final hidden states");
    tasks.put("score", "lm head");
    tasks.put("tokenize", tokenizer.isPresent() ? "tokenizer" : "unavailable: no tokenizer");
    return new ModelInfo(path, config, dtypes.size() == 1 ? dtypes.iterator().next() : String.join("+", dtypes),
        params, checkpoint.totalBytes(),
        (int) (ops.sequenceCacheBytes(config, 16) / (config.cacheSlots(16) * config.hiddenSize * 2L)),
        tokenizer.isPresent(), weights.lmHeadTied,
        weights.score == null ? null : labelNames(weights.score.rows()),
        weights.classifier == null ? null : labelNames(weights.classifier.rows()), weights.qaOutputs != null,
        ops.name(), options.threads, Collections.unmodifiableMap(tasks));
  }

  @Override
  public void close() {
    scheduler.close();
    ops.close();
  }
}
