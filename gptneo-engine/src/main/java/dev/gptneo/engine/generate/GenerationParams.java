package dev.gptneo.engine.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * How to generate, with Hugging Face's semantics and defaults. Greedy unless {@code doSample}.
 * Immutable; build with {@link #builder()}. Invalid values fail in {@link Builder#build()} with a
 * message that names the setting and its valid range.
 */
public final class GenerationParams {
  public static final GenerationParams DEFAULT = builder().build();

  public final int maxNewTokens;         // default 64
  public final int minNewTokens;         // default 0: eos is suppressed before this many tokens
  public final int maxLength;            // default 0 (unset): HF's max_length, prompt included; see forPrompt
  public final int minLength;            // default 0 (unset): HF's min_length, prompt included
  public final boolean doSample;         // default false (greedy)
  public final double temperature;       // default 1.0
  public final int topK;                 // default 50 when sampling (HF's default); 0 disables
  public final double topP;              // default 1.0 (disabled)
  public final double repetitionPenalty; // default 1.0 (disabled)
  public final int noRepeatNgramSize;    // default 0 (disabled)
  public final long seed;                // default 0; the sampling stream of a request depends only on this
  public final List<String> stopStrings;
  public final int[] stopTokenIds;       // besides eos: stop (finish_reason "stop") after one of these
  public final int[] eosTokenIds;        // HF's eos_token_id; null: config.json's (see eosOr); empty: none
  public final int numBeams;             // default 1; > 1: beam search (BeamSearch), greedy only
  public final double lengthPenalty;     // default 1.0: beam scores are divided by generated length ** this
  public final String earlyStopping;     // default "false"; "true" or "never", as HF's early_stopping
  public final boolean skipSpecialTokens; // default false: the text keeps eos (HF decode's default)
  public final int numReturnSequences;   // default 1; more: that many samples, or the best beams, per row
  public final boolean logprobs;         // default false: each generated token's log-probability too
  public final double minP;              // default 0 (disabled); sampling: HF's min_p
  public final double topH;              // default 0 (disabled); sampling: HF's top_h (entropy warper)
  public final double typicalP;          // default 1 (disabled); sampling: HF's typical_p
  public final double epsilonCutoff;     // default 0 (disabled); sampling: HF's epsilon_cutoff
  public final double etaCutoff;         // default 0 (disabled); sampling: HF's eta_cutoff
  public final int[] suppressTokens;     // never chosen (HF's suppress_tokens)
  public final int[] beginSuppressTokens; // not chosen as the first generated token (begin_suppress_tokens)
  public final int[][] badWordsIds;      // token sequences never completed (HF's bad_words_ids)
  public final int[][] biasedSequences;  // HF's sequence_bias: token sequences ...
  public final double[] sequenceBiases;  // ... and the bias added to each one's last token
  public final int decayStart;           // HF's exponential_decay_length_penalty: (start, factor); -1: off
  public final double decayFactor;
  public final int forcedBosTokenId;     // HF's forced_bos_token_id (-1: off): the first token of a one-token prompt
  public final int[] forcedEosTokenIds;  // HF's forced_eos_token_id: the last of max_new_tokens is one of these
  public final boolean renormalizeLogits; // HF's renormalize_logits: log-softmax after all processing
  private final boolean maxNewTokensGiven; // set explicitly: wins over max_length, as HF's max_new_tokens
  private final boolean minNewTokensGiven; // set explicitly: wins over min_length

  private GenerationParams(Builder b) {
    maxNewTokens = b.maxNewTokens;
    minNewTokens = b.minNewTokens;
    maxLength = b.maxLength;
    minLength = b.minLength;
    doSample = b.doSample;
    temperature = b.temperature;
    topK = b.topK;
    topP = b.topP;
    repetitionPenalty = b.repetitionPenalty;
    noRepeatNgramSize = b.noRepeatNgramSize;
    seed = b.seed;
    stopStrings = Collections.unmodifiableList(new ArrayList<>(b.stopStrings));
    stopTokenIds = b.stopTokenIds.clone();
    eosTokenIds = b.eosTokenIds == null ? null : b.eosTokenIds.clone();
    numBeams = b.numBeams;
    lengthPenalty = b.lengthPenalty;
    earlyStopping = b.earlyStopping;
    skipSpecialTokens = b.skipSpecialTokens;
    numReturnSequences = b.numReturnSequences;
    logprobs = b.logprobs;
    minP = b.minP;
    topH = b.topH;
    typicalP = b.typicalP;
    epsilonCutoff = b.epsilonCutoff;
    etaCutoff = b.etaCutoff;
    suppressTokens = b.suppressTokens.clone();
    beginSuppressTokens = b.beginSuppressTokens.clone();
    badWordsIds = deepCopy(b.badWordsIds);
    biasedSequences = deepCopy(b.biasedSequences);
    sequenceBiases = b.sequenceBiases.clone();
    decayStart = b.decayStart;
    decayFactor = b.decayFactor;
    forcedBosTokenId = b.forcedBosTokenId;
    forcedEosTokenIds = b.forcedEosTokenIds.clone();
    renormalizeLogits = b.renormalizeLogits;
    maxNewTokensGiven = b.maxNewTokensGiven;
    minNewTokensGiven = b.minNewTokensGiven;
  }

  private static int[][] deepCopy(int[][] a) {
    int[][] out = new int[a.length][];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] == null ? null : a[i].clone(); // ParamRules names a missing list
    }
    return out;
  }

  /**
   * The parameters for one prompt, with HF's total-length settings turned into new-token counts, as
   * transformers 5.17's _prepare_generated_length: max_length gives max_length - prompt new tokens
   * unless max_new_tokens was given (which wins); min_length bans eos until the sequence has that many
   * tokens unless min_new_tokens was given. A prompt of max_length tokens or more fails, as in HF.
   */
  public GenerationParams forPrompt(int promptLength) {
    if (maxLength == 0 && minLength == 0) {
      return this;
    }
    int maxNew = maxLength > 0 && !maxNewTokensGiven ? maxLength - promptLength : maxNewTokens;
    if (maxNew < 1) {
      throw new IllegalArgumentException("the prompt has " + promptLength + " tokens but max_length is "
          + maxLength + " (prompt included), so nothing can be generated; raise max_length or, better, set"
          + " max_new_tokens");
    }
    int minNew = minNewTokensGiven ? minNewTokens : Math.max(minNewTokens, minLength - promptLength);
    return toBuilder().maxLength(0).minLength(0).maxNewTokens(maxNew).minNewTokens(minNew).build();
  }

  /** The eos ids of these parameters: their own eos_token_id when set (maybe none), else config.json's. */
  public int[] eosOr(int[] modelEosTokenIds) {
    return eosTokenIds != null ? eosTokenIds : modelEosTokenIds;
  }

  /**
   * Whether the token after {@code len} tokens, {@code generated} of them new, needs the host's
   * choice (the steps of LogitsPipeline that a backend's choice table cannot carry): a typical_p so
   * close to 1 that its float is 1 (the table's floats would turn it off, the host does not) at
   * every step; forcing at its step (bos after one token, eos at the last new token), the length
   * decay once it changes a logit. Renormalizing is not among them: a beam's row carries it
   * (TokenChoice.renormalize), and it moves neither a greedy or sampled token nor its
   * log-probability (a log-softmax's argmax, draw and log-softmax are its input's, up to rounding).
   */
  public boolean needsHostChoice(int len, int generated) {
    return doSample && typicalP < 1 && (float) typicalP == 1f
        || forcedBosTokenId >= 0 && len == 1
        || forcedEosTokenIds.length > 0 && generated == maxNewTokens - 1
        || decayStart >= 0 && generated > decayStart;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxNewTokens = maxNewTokens;
    b.minNewTokens = minNewTokens;
    b.maxLength = maxLength;
    b.minLength = minLength;
    b.doSample = doSample;
    b.temperature = temperature;
    b.topK = topK;
    b.topP = topP;
    b.repetitionPenalty = repetitionPenalty;
    b.noRepeatNgramSize = noRepeatNgramSize;
    b.seed = seed;
    b.stopStrings = new ArrayList<>(stopStrings);
    b.stopTokenIds = stopTokenIds.clone();
    b.eosTokenIds = eosTokenIds == null ? null : eosTokenIds.clone();
    b.numBeams = numBeams;
    b.lengthPenalty = lengthPenalty;
    b.earlyStopping = earlyStopping;
    b.skipSpecialTokens = skipSpecialTokens;
    b.numReturnSequences = numReturnSequences;
    b.logprobs = logprobs;
    b.minP = minP;
    b.topH = topH;
    b.typicalP = typicalP;
    b.epsilonCutoff = epsilonCutoff;
    b.etaCutoff = etaCutoff;
    b.suppressTokens = suppressTokens.clone();
    b.beginSuppressTokens = beginSuppressTokens.clone();
    b.badWordsIds = deepCopy(badWordsIds);
    b.biasedSequences = deepCopy(biasedSequences);
    b.sequenceBiases = sequenceBiases.clone();
    b.decayStart = decayStart;
    b.decayFactor = decayFactor;
    b.forcedBosTokenId = forcedBosTokenId;
    b.forcedEosTokenIds = forcedEosTokenIds.clone();
    b.renormalizeLogits = renormalizeLogits;
    b.maxNewTokensGiven = maxNewTokensGiven;
    b.minNewTokensGiven = minNewTokensGiven;
    return b;
  }

  public static final class Builder {
    private int maxNewTokens = 64;
    private int minNewTokens = 0;
    private int maxLength = 0;
    private int minLength = 0;
    private boolean doSample = false;
    private double temperature = 1.0;
    private int topK = 50;
    private double topP = 1.0;
    private double repetitionPenalty = 1.0;
    private int noRepeatNgramSize = 0;
    private long seed = 0;
    private List<String> stopStrings = new ArrayList<>();
    private int[] stopTokenIds = new int[0];
    private int[] eosTokenIds = null;
    private int numBeams = 1;
    private double lengthPenalty = 1.0;
    private String earlyStopping = "false";
    private boolean skipSpecialTokens = false;
    private int numReturnSequences = 1;
    private boolean logprobs = false;
    private double minP = 0;
    private double topH = 0;
    private double typicalP = 1;
    private double epsilonCutoff = 0;
    private double etaCutoff = 0;
    private int[] suppressTokens = new int[0];
    private int[] beginSuppressTokens = new int[0];
    private int[][] badWordsIds = new int[0][];
    private int[][] biasedSequences = new int[0][];
    private double[] sequenceBiases = new double[0];
    private int decayStart = -1;
    private double decayFactor = 1;
    private int forcedBosTokenId = -1;
    private int[] forcedEosTokenIds = new int[0];
    private boolean renormalizeLogits = false;
    private boolean maxNewTokensGiven = false;
    private boolean minNewTokensGiven = false;

    /** How many tokens to generate at most (default 64); given, it wins over max_length, as in HF. */
    public Builder maxNewTokens(int v) {
      maxNewTokens = v;
      maxNewTokensGiven = true;
      return this;
    }

    /** eos is banned before this many new tokens (default 0); given, it wins over min_length, as in HF. */
    public Builder minNewTokens(int v) {
      minNewTokens = v;
      minNewTokensGiven = true;
      return this;
    }

    /**
     * HF's max_length: the most tokens of prompt and completion together; when set (> 0) it replaces
     * max_new_tokens for each prompt ({@link #forPrompt}), unless max_new_tokens is given anywhere
     * (a model's generation_config.json or the call), as HF's max_new_tokens takes precedence.
     */
    public Builder maxLength(int v) {
      maxLength = v;
      return this;
    }

    /** HF's min_length: eos is banned until the sequence, prompt included, has this many tokens. */
    public Builder minLength(int v) {
      minLength = v;
      return this;
    }

    public Builder doSample(boolean v) {
      doSample = v;
      return this;
    }

    public Builder temperature(double v) {
      temperature = v;
      return this;
    }

    public Builder topK(int v) {
      topK = v;
      return this;
    }

    public Builder topP(double v) {
      topP = v;
      return this;
    }

    public Builder repetitionPenalty(double v) {
      repetitionPenalty = v;
      return this;
    }

    public Builder noRepeatNgramSize(int v) {
      noRepeatNgramSize = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder stopStrings(List<String> v) {
      stopStrings = new ArrayList<>(v);
      return this;
    }

    public Builder addStopString(String v) {
      stopStrings.add(v);
      return this;
    }

    public Builder stopTokenIds(int... v) {
      stopTokenIds = v.clone();
      return this;
    }

    /**
     * HF's eos_token_id (generation_config.json's): these replace config.json's eos ids for stopping,
     * min_new_tokens / min_length, bad words and the length decay. Empty: no eos (HF's, for a
     * generation_config.json without eos_token_id); null: config.json's (the default).
     */
    public Builder eosTokenIds(int... v) {
      eosTokenIds = v == null ? null : v.clone();
      return this;
    }

    public Builder numBeams(int v) {
      numBeams = v;
      return this;
    }

    public Builder lengthPenalty(double v) {
      lengthPenalty = v;
      return this;
    }

    /**
     * Leave special tokens such as {@code <|endoftext|>} out of the decoded text, as HF's
     * {@code decode(..., skip_special_tokens=True)} (and its text-generation pipeline) does; the ids
     * keep them. Generation itself does not change.
     */
    public Builder skipSpecialTokens(boolean v) {
      skipSpecialTokens = v;
      return this;
    }

    /**
     * HF's num_return_sequences: with sampling, that many samples of the row (the first with the
     * row's seed, sample j with {@link Sampler#sequenceSeed}); with beam search, the best that many
     * hypotheses (at most num_beams), best first. Greedy decoding gives one.
     */
    public Builder numReturnSequences(int v) {
      numReturnSequences = v;
      return this;
    }

    /**
     * Also return each generated token's log-probability under the distribution it was chosen
     * from: log_softmax of the processed logits (penalties, bans, temperature, top-k, top-p), as
     * HF's {@code compute_transition_scores(sequences, scores, normalize_logits=True)}. Greedy and
     * sampling only.
     */
    public Builder logprobs(boolean v) {
      logprobs = v;
      return this;
    }

    /**
     * HF's min_p (sampling): after top-p, drops tokens whose probability is below min_p times the
     * most likely token's. 0 disables it.
     */
    public Builder minP(double v) {
      minP = v;
      return this;
    }

    /** HF's top_h (sampling; transformers 5's TopHLogitsWarper, after temperature): in (0, 1], 0 off. */
    public Builder topH(double v) {
      topH = v;
      return this;
    }

    /**
     * HF's typical_p (sampling, locally typical): keeps the tokens whose -log p is nearest the
     * entropy until their probabilities reach it. 1 disables it.
     */
    public Builder typicalP(double v) {
      typicalP = v;
      return this;
    }

    /** HF's epsilon_cutoff (sampling): drops tokens of probability below it, keeping the most likely. 0: off. */
    public Builder epsilonCutoff(double v) {
      epsilonCutoff = v;
      return this;
    }

    /**
     * HF's eta_cutoff (sampling): drops tokens of probability below min(eta, sqrt(eta) * exp(-entropy)),
     * keeping the most likely. 0: off.
     */
    public Builder etaCutoff(double v) {
      etaCutoff = v;
      return this;
    }

    /** HF's suppress_tokens: these ids are never generated (ids outside the vocabulary are ignored). */
    public Builder suppressTokens(int... v) {
      suppressTokens = v.clone();
      return this;
    }

    /** HF's begin_suppress_tokens: these ids are not generated as the first new token. */
    public Builder beginSuppressTokens(int... v) {
      beginSuppressTokens = v.clone();
      return this;
    }

    /**
     * HF's bad_words_ids: token sequences that are never completed. A one-token word is banned at every
     * step (except one that is the model's eos, as HF drops those); a longer one's last token is
     * banned where the sequence ends with the rest of it. An id outside the vocabulary fails the row, as
     * in HF.
     */
    public Builder badWordsIds(int[]... v) {
      badWordsIds = deepCopy(v);
      return this;
    }

    /**
     * HF's sequence_bias: {@code biases[i]} is added to the last token of {@code sequences[i]} where
     * the sequence ends with the rest of it (a one-token sequence: at every step), before any other
     * processing, as HF's SequenceBiasLogitsProcessor.
     */
    public Builder sequenceBias(int[][] sequences, double[] biases) {
      if (sequences.length != biases.length) { // build() says so
        biasedSequences = deepCopy(sequences);
        sequenceBiases = biases.clone();
        return this;
      }
      // a sequence listed twice keeps its last bias, as HF's dict of them does
      java.util.Map<List<Integer>, Integer> last = new java.util.HashMap<>();
      for (int i = 0; i < sequences.length; i++) {
        last.put(sequences[i] == null ? null : Arrays.stream(sequences[i]).boxed().toList(), i);
      }
      int[] kept = last.values().stream().mapToInt(Integer::intValue).sorted().toArray();
      biasedSequences = deepCopy(Arrays.stream(kept).mapToObj(i -> sequences[i]).toArray(int[][]::new));
      sequenceBiases = Arrays.stream(kept).mapToDouble(i -> biases[i]).toArray();
      return this;
    }

    /**
     * HF's exponential_decay_length_penalty (start, factor): after {@code start} new tokens, each eos
     * logit s grows by |s| x (factor^(new tokens - start) - 1), making an end ever likelier.
     */
    public Builder exponentialDecayLengthPenalty(int start, double factor) {
      decayStart = start;
      decayFactor = factor;
      return this;
    }

    /** HF's forced_bos_token_id: with a one-token prompt, the first new token is this one (-1: off). */
    public Builder forcedBosTokenId(int v) {
      forcedBosTokenId = v;
      return this;
    }

    /** HF's forced_eos_token_id: the last of max_new_tokens is one of these ids. */
    public Builder forcedEosTokenIds(int... v) {
      forcedEosTokenIds = v.clone();
      return this;
    }

    /** HF's renormalize_logits: the processed logits become log-probabilities again (beam scores, logprobs). */
    public Builder renormalizeLogits(boolean v) {
      renormalizeLogits = v;
      return this;
    }

    /** HF's early_stopping: "false" (default), "true" or "never". */
    public Builder earlyStopping(String v) {
      earlyStopping = v == null ? null : v.trim().toLowerCase(java.util.Locale.ROOT);
      return this;
    }

    /** The parameters, checked (ParamRules): an invalid value fails with a message that names it. */
    public GenerationParams build() {
      GenerationParams p = new GenerationParams(this);
      ParamRules.check(p);
      return p;
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof GenerationParams)) {
      return false;
    }
    GenerationParams p = (GenerationParams) o;
    return maxNewTokens == p.maxNewTokens && minNewTokens == p.minNewTokens && maxLength == p.maxLength
        && minLength == p.minLength && doSample == p.doSample
        && temperature == p.temperature && topK == p.topK && topP == p.topP
        && repetitionPenalty == p.repetitionPenalty && noRepeatNgramSize == p.noRepeatNgramSize && seed == p.seed
        && stopStrings.equals(p.stopStrings) && Arrays.equals(stopTokenIds, p.stopTokenIds)
        && Arrays.equals(eosTokenIds, p.eosTokenIds)
        && numBeams == p.numBeams && lengthPenalty == p.lengthPenalty && earlyStopping.equals(p.earlyStopping)
        && skipSpecialTokens == p.skipSpecialTokens && numReturnSequences == p.numReturnSequences
        && logprobs == p.logprobs && minP == p.minP && topH == p.topH && typicalP == p.typicalP
        && epsilonCutoff == p.epsilonCutoff
        && etaCutoff == p.etaCutoff
        && Arrays.equals(suppressTokens, p.suppressTokens)
        && Arrays.equals(beginSuppressTokens, p.beginSuppressTokens)
        && Arrays.deepEquals(badWordsIds, p.badWordsIds)
        && Arrays.deepEquals(biasedSequences, p.biasedSequences)
        && Arrays.equals(sequenceBiases, p.sequenceBiases) && decayStart == p.decayStart
        && decayFactor == p.decayFactor && forcedBosTokenId == p.forcedBosTokenId
        && Arrays.equals(forcedEosTokenIds, p.forcedEosTokenIds) && renormalizeLogits == p.renormalizeLogits
        && maxNewTokensGiven == p.maxNewTokensGiven && minNewTokensGiven == p.minNewTokensGiven;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxNewTokens, minNewTokens, maxLength, minLength, doSample, temperature, topK, topP,
        repetitionPenalty, noRepeatNgramSize, seed, stopStrings, Arrays.hashCode(stopTokenIds),
        Arrays.hashCode(eosTokenIds), numBeams,
        lengthPenalty, earlyStopping, skipSpecialTokens, numReturnSequences, logprobs, minP, topH, typicalP,
        epsilonCutoff, etaCutoff,
        Arrays.hashCode(suppressTokens), Arrays.hashCode(beginSuppressTokens),
        Arrays.deepHashCode(badWordsIds), Arrays.deepHashCode(biasedSequences),
        Arrays.hashCode(sequenceBiases), decayStart, decayFactor, forcedBosTokenId,
        Arrays.hashCode(forcedEosTokenIds), renormalizeLogits, maxNewTokensGiven, minNewTokensGiven);
  }

  @Override
  public String toString() {
    return "GenerationParams{max_new_tokens=" + maxNewTokens + ", min_new_tokens=" + minNewTokens
        + (maxLength > 0 ? ", max_length=" + maxLength : "") + (minLength > 0 ? ", min_length=" + minLength : "")
        + (doSample ? ", sample(temperature=" + temperature + ", top_k=" + topK + ", top_p=" + topP
            + (minP > 0 ? ", min_p=" + minP : "") + (topH > 0 ? ", top_h=" + topH : "")
            + (typicalP < 1 ? ", typical_p=" + typicalP : "")
            + (epsilonCutoff > 0 ? ", epsilon_cutoff=" + epsilonCutoff : "")
            + (etaCutoff > 0 ? ", eta_cutoff=" + etaCutoff : "") + ")" : ", greedy")
        + ", repetition_penalty=" + repetitionPenalty + ", no_repeat_ngram_size=" + noRepeatNgramSize
        + ", seed=" + seed + ", stop=" + stopStrings
        + (stopTokenIds.length > 0 ? ", stop_token_ids=" + Arrays.toString(stopTokenIds) : "")
        + (eosTokenIds != null ? ", eos_token_id=" + Arrays.toString(eosTokenIds) : "")
        + (numBeams > 1 ? ", beams(" + numBeams + ", length_penalty=" + lengthPenalty + ", early_stopping="
            + earlyStopping + ")" : "") + (skipSpecialTokens ? ", skip_special_tokens" : "")
        + (numReturnSequences > 1 ? ", num_return_sequences=" + numReturnSequences : "")
        + (logprobs ? ", logprobs" : "")
        + (suppressTokens.length > 0 ? ", suppress_tokens=" + Arrays.toString(suppressTokens) : "")
        + (beginSuppressTokens.length > 0 ? ", begin_suppress_tokens=" + Arrays.toString(beginSuppressTokens)
            : "")
        + (badWordsIds.length > 0 ? ", bad_words_ids=" + Arrays.deepToString(badWordsIds) : "")
        + (sequenceBiases.length > 0 ? ", sequence_bias=" + Arrays.deepToString(biasedSequences) + " "
            + Arrays.toString(sequenceBiases) : "")
        + (decayStart >= 0 ? ", exponential_decay_length_penalty=(" + decayStart + ", " + decayFactor + ")" : "")
        + (forcedBosTokenId >= 0 ? ", forced_bos_token_id=" + forcedBosTokenId : "")
        + (forcedEosTokenIds.length > 0 ? ", forced_eos_token_id=" + Arrays.toString(forcedEosTokenIds) : "")
        + (renormalizeLogits ? ", renormalize_logits" : "")
        + "}";
  }
}
