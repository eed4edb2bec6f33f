package dev.gptneo.spark.functions;

import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.Truncation;
import dev.gptneo.engine.generate.GenerationDefaults;
import dev.gptneo.engine.generate.GenerationParams;
import java.io.Serializable;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The validated options of one function call (parsed at analysis time by {@link OptionsParser}).
 * Immutable and serializable: it travels to the executors inside the plan.
 */
public final class CallOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  /** {@code 'output'}: the plain value, or a struct that also carries the row's error. */
  public enum Output { VALUE, STRUCT }

  /** {@code 'on_error'}: fail the query on a bad row, or give null (or a struct with error set). */
  public enum OnError { FAIL, NULL }

  public static final int DEFAULT_MAX_ANSWER_TOKENS = 15;

  public final String model;              // a registered name or a path; null = spark.gptneo.model
  public final Output output;
  public final OnError onError;
  public final int maxInputTokens;        // 0 = the model's limit
  public final Truncation truncation;
  public final int maxAnswerTokens;
  public final List<String> labels;       // zero-shot candidates; null = the classification head
  /** Generation settings by their option key, values normalized (see OptionsParser). */
  public final SortedMap<String, String> generation;
  public final Boolean sampling;          // null: the model's default (generation_config.json's do_sample)
  private final int returnSequences;      // from generation: read for every result row
  private final boolean logprobs;

  CallOptions(String model, Output output, OnError onError, int maxInputTokens, Truncation truncation,
      int maxAnswerTokens, List<String> labels, Map<String, String> generation, Boolean sampling) {
    this.model = model;
    this.output = output;
    this.onError = onError;
    this.maxInputTokens = maxInputTokens;
    this.truncation = truncation;
    this.maxAnswerTokens = maxAnswerTokens;
    this.labels = labels == null ? null : List.copyOf(labels);
    this.generation = Collections.unmodifiableSortedMap(new TreeMap<>(generation));
    this.sampling = sampling;
    String n = this.generation.get("num_return_sequences");
    this.returnSequences = n == null ? 1 : Integer.parseInt(n);
    this.logprobs = Boolean.parseBoolean(this.generation.get("logprobs"));
  }

  public static CallOptions defaults() {
    return new CallOptions(null, Output.VALUE, OnError.FAIL, 0, Truncation.ERROR, DEFAULT_MAX_ANSWER_TOKENS, null,
        Map.of(), null);
  }

  public CallOptions withLabels(List<String> newLabels) {
    return new CallOptions(model, output, onError, maxInputTokens, truncation, maxAnswerTokens, newLabels,
        generation, sampling);
  }

  public InputPolicy inputPolicy() {
    return new InputPolicy(maxInputTokens, truncation);
  }

  /**
   * The engine's generation parameters over the model's own defaults (generation_config.json, as
   * HF's generate() applies them); the seed is replaced per row by the operator.
   */
  public GenerationParams generationParams(GenerationDefaults defaults) {
    return OptionsParser.generationParams(generation, sampling, defaults);
  }

  /** num_return_sequences (1 unless given): above 1, gptneo_generate returns arrays. */
  public int returnSequences() {
    return returnSequences;
  }

  /** logprobs: gptneo_generate's struct also carries token_logprobs. */
  public boolean logprobs() {
    return logprobs;
  }

  public int maxNewTokens() {
    String v = generation.get("max_new_tokens");
    return v == null ? GenerationParams.DEFAULT.maxNewTokens : Integer.parseInt(v);
  }

  /** The user's seed (default 0), from which each row's sampling seed is derived. */
  public long seed() {
    String v = generation.get("seed");
    return v == null ? 0L : Long.parseLong(v);
  }

  /**
   * What the engine call depends on. Calls whose keys are equal share Arrow batches: 'output' and
   * 'on_error' only change how results are read back, so they are left out.
   */
  public EngineKey engineKey(GptNeoFunction function) {
    return new EngineKey(function, model, maxInputTokens, truncation, maxAnswerTokens, labels, generation, sampling);
  }

  /** Equality of everything the engine sees; see {@link #engineKey}. */
  public static final class EngineKey implements Serializable {
    private static final long serialVersionUID = 1L;
    private final List<Object> parts;

    EngineKey(Object... parts) {
      this.parts = java.util.Arrays.asList(parts);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof EngineKey && ((EngineKey) o).parts.equals(parts);
    }

    @Override
    public int hashCode() {
      return parts.hashCode();
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof CallOptions)) {
      return false;
    }
    CallOptions c = (CallOptions) o;
    return Objects.equals(model, c.model) && output == c.output && onError == c.onError
        && maxInputTokens == c.maxInputTokens && truncation == c.truncation && maxAnswerTokens == c.maxAnswerTokens
        && Objects.equals(labels, c.labels) && generation.equals(c.generation) && Objects.equals(sampling, c.sampling);
  }

  @Override
  public int hashCode() {
    return Objects.hash(model, output, onError, maxInputTokens, truncation, maxAnswerTokens, labels, generation,
        sampling);
  }

  /** A short form for plan strings: only what differs from the defaults. */
  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    if (model != null) {
      s.append("model=").append(model).append(", ");
    }
    if (labels != null) {
      s.append("labels=").append(labels).append(", ");
    }
    generation.forEach((k, v) -> s.append(k).append('=').append(v).append(", "));
    if (Boolean.TRUE.equals(sampling) && !generation.containsKey("do_sample")) {
      s.append("sampling, ");
    }
    if (maxInputTokens != 0) {
      s.append("max_input_tokens=").append(maxInputTokens).append(", ");
    }
    if (truncation != Truncation.ERROR) {
      s.append("truncation=").append(truncation.json()).append(", ");
    }
    if (maxAnswerTokens != DEFAULT_MAX_ANSWER_TOKENS) {
      s.append("max_answer_tokens=").append(maxAnswerTokens).append(", ");
    }
    if (output != Output.VALUE) {
      s.append("output=struct, ");
    }
    if (onError != OnError.FAIL) {
      s.append("on_error=null, ");
    }
    return s.length() == 0 ? "" : s.substring(0, s.length() - 2);
  }
}
