package dev.gptneo.spark.functions;

import dev.gptneo.engine.api.Truncation;
import dev.gptneo.engine.generate.GenerationDefaults;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.generate.SettingForms;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Turns a function's options map into {@link CallOptions}, or fails with a message that names the
 * bad key or value and lists what is valid. Generation settings are checked by building the
 * engine's own {@link GenerationParams}, so the rules (and messages) are the engine's.
 */
public final class OptionsParser {
  private static final Set<String> SAMPLING_KEYS = Set.of("temperature", "top_k", "top_p", "min_p", "typical_p",
      "epsilon_cutoff", "eta_cutoff", "top_h");

  private OptionsParser() {}

  /**
   * @param knownModel tells whether a model name or path is usable (the registry check)
   * @throws IllegalArgumentException naming the problem
   */
  public static CallOptions parse(GptNeoFunction function, Map<String, String> raw, Predicate<String> knownModel) {
    Map<String, String> opts = new TreeMap<>();
    for (Map.Entry<String, String> e : raw.entrySet()) {
      String key = e.getKey().trim().toLowerCase(Locale.ROOT);
      if (!function.optionKeys.contains(key)) {
        throw new IllegalArgumentException("unknown option '" + e.getKey() + "'. Valid options of "
            + function.sqlName + ": " + String.join(", ", function.optionKeys));
      }
      if (e.getValue() == null) {
        throw new IllegalArgumentException("option '" + key + "' is null; give it a value or leave it out");
      }
      // a stop string's white space is its content ('\n\n' stops at a blank line); other values are trimmed
      opts.put(key, key.equals("stop") ? e.getValue() : e.getValue().trim());
    }

    String model = opts.remove("model");
    if (model != null && !knownModel.test(model)) {
      throw new IllegalArgumentException("unknown model '" + model + "'. Register it with --conf spark.gptneo.models."
          + model + "=<folder or URI>, or give a folder path");
    }
    CallOptions.Output output = choice(opts.remove("output"), "output", CallOptions.Output.VALUE,
        CallOptions.Output.values());
    CallOptions.OnError onError = choice(opts.remove("on_error"), "on_error", CallOptions.OnError.FAIL,
        CallOptions.OnError.values());
    int maxInputTokens = integer(opts.remove("max_input_tokens"), "max_input_tokens", 0, 0);
    Truncation truncation = truncation(opts.remove("truncation"));
    int maxAnswerTokens = integer(opts.remove("max_answer_tokens"), "max_answer_tokens",
        CallOptions.DEFAULT_MAX_ANSWER_TOKENS, 1);

    Map<String, String> generation = normalizeGeneration(opts);
    Boolean sampling = sampling(generation);
    generationParams(generation, sampling, GenerationDefaults.none()); // validates with the engine's rules
    if (Boolean.parseBoolean(generation.get("logprobs")) && output != CallOptions.Output.STRUCT) {
      throw new IllegalArgumentException("option 'logprobs' adds token_logprobs to the result struct: give 'output' = "
          + "'struct' too");
    }
    return new CallOptions(model, output, onError, maxInputTokens, truncation, maxAnswerTokens, null, generation,
        sampling);
  }

  /**
   * Sampling is on when do_sample is true, or when temperature, top_k, top_p, min_p, typical_p or a
   * cutoff is set (unless do_sample is false or greedy is true); off with greedy or do_sample false.
   * Null when none of these is given: then the model's default decides (greedy unless its
   * generation_config.json says do_sample).
   */
  private static Boolean sampling(Map<String, String> g) {
    if (g.containsKey("greedy")) {
      boolean greedy = Boolean.parseBoolean(g.get("greedy"));
      if (g.containsKey("do_sample") && Boolean.parseBoolean(g.get("do_sample")) == greedy) {
        throw new IllegalArgumentException("options 'greedy' and 'do_sample' contradict each other; give only one");
      }
      return !greedy;
    }
    if (g.containsKey("do_sample")) {
      return Boolean.parseBoolean(g.get("do_sample"));
    }
    return g.keySet().stream().anyMatch(SAMPLING_KEYS::contains) ? Boolean.TRUE : null;
  }

  /** Checks each generation value's syntax and writes it in a canonical form. */
  private static Map<String, String> normalizeGeneration(Map<String, String> opts) {
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : opts.entrySet()) {
      String k = e.getKey();
      String v = e.getValue();
      switch (k) {
        case "max_length":
          out.put(k, Integer.toString(integer(v, k, 0, 1)));
          break;
        case "max_new_tokens":
        case "min_new_tokens":
        case "min_length":
        case "top_k":
        case "no_repeat_ngram_size":
        case "num_beams":
        case "num_return_sequences":
          out.put(k, Integer.toString(integer(v, k, 0, Integer.MIN_VALUE)));
          break;
        case "seed":
          out.put(k, Long.toString(parseLong(v, k)));
          break;
        case "temperature":
        case "top_p":
        case "repetition_penalty":
        case "length_penalty":
        case "min_p":
        case "top_h":
        case "typical_p":
        case "epsilon_cutoff":
        case "eta_cutoff":
          out.put(k, Double.toString(parseDouble(v, k)));
          break;
        case "suppress_tokens":
        case "begin_suppress_tokens":
        case "bad_words_ids":
        case "sequence_bias":
        case "exponential_decay_length_penalty":
        case "eos_token_id":
          try {
            SettingForms.apply(k, v, GenerationParams.builder()); // the form only; ranges when built below
          } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException("option '" + k + "'" + bad.getMessage().substring(k.length()));
          }
          out.put(k, v);
          break;
        case "do_sample":
        case "greedy":
        case "skip_special_tokens":
        case "logprobs":
          out.put(k, Boolean.toString(bool(v, k)));
          break;
        case "stop":
          out.put(k, String.join("\u0000", stopStrings(v)));
          break;
        case "early_stopping":
          out.put(k, v.trim().toLowerCase(java.util.Locale.ROOT)); // the engine checks true|false|never
          break;
        default:
          throw new IllegalStateException("unhandled option " + k);
      }
    }
    return out;
  }

  /** Builds the engine parameters from normalized settings over the model's defaults; the engine validates ranges. */
  static GenerationParams generationParams(Map<String, String> g, Boolean sampling, GenerationDefaults defaults) {
    GenerationParams.Builder b = defaults.params.toBuilder().seed(0)
        .doSample(sampling != null ? sampling : defaults.sampling);
    g.forEach((k, v) -> {
      switch (k) {
        case "max_new_tokens": b.maxNewTokens(Integer.parseInt(v)); break; // wins over max_length, as in HF
        case "max_length": b.maxLength(Integer.parseInt(v)); break;
        case "min_length": b.minLength(Integer.parseInt(v)); break;
        case "min_new_tokens": b.minNewTokens(Integer.parseInt(v)); break;
        case "top_k": b.topK(Integer.parseInt(v)); break;
        case "no_repeat_ngram_size": b.noRepeatNgramSize(Integer.parseInt(v)); break;
        case "num_beams": b.numBeams(Integer.parseInt(v)); break;
        case "length_penalty": b.lengthPenalty(Double.parseDouble(v)); break;
        case "early_stopping": b.earlyStopping(v); break;
        case "skip_special_tokens": b.skipSpecialTokens(Boolean.parseBoolean(v)); break;
        case "num_return_sequences": b.numReturnSequences(Integer.parseInt(v)); break;
        case "logprobs": b.logprobs(Boolean.parseBoolean(v)); break;
        case "seed": b.seed(Long.parseLong(v)); break;
        case "temperature": b.temperature(Double.parseDouble(v)); break;
        case "top_p": b.topP(Double.parseDouble(v)); break;
        case "repetition_penalty": b.repetitionPenalty(Double.parseDouble(v)); break;
        case "stop": b.stopStrings(List.of(v.split("\u0000", -1))); break;
        case "min_p": b.minP(Double.parseDouble(v)); break;
        case "top_h": b.topH(Double.parseDouble(v)); break;
        case "typical_p": b.typicalP(Double.parseDouble(v)); break;
        case "epsilon_cutoff": b.epsilonCutoff(Double.parseDouble(v)); break;
        case "eta_cutoff": b.etaCutoff(Double.parseDouble(v)); break;
        default:
          if (SettingForms.KEYS.contains(k)) {
            SettingForms.apply(k, v, b);
          } // else do_sample / greedy: already folded into `sampling`
          break;
      }
    });
    return b.build();
  }

  /** One stop string, or several as a JSON-style array: ["\n\n", "END"]. */
  static List<String> stopStrings(String v) {
    String s = v.trim();
    if (!s.startsWith("[")) {
      return List.of(v);
    }
    List<String> out;
    try {
      out = List.of(new com.fasterxml.jackson.databind.ObjectMapper().readValue(s, String[].class));
    } catch (java.io.IOException | NullPointerException e) {
      throw new IllegalArgumentException("option 'stop' must be one string or a JSON array of strings such as "
          + "[\"\\n\\n\", \"END\"]; got '" + v + "'");
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("option 'stop' is an empty list; give at least one stop string");
    }
    return out;
  }

  private static <E extends Enum<E>> E choice(String v, String key, E dflt, E[] values) {
    if (v == null) {
      return dflt;
    }
    for (E e : values) {
      if (e.name().equalsIgnoreCase(v)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : values) {
      names.add(e.name().toLowerCase(Locale.ROOT));
    }
    throw new IllegalArgumentException("option '" + key + "' must be one of " + String.join(", ", names) + "; got '"
        + v + "'");
  }

  private static Truncation truncation(String v) {
    return v == null ? Truncation.ERROR : Truncation.parse(v);
  }

  private static int integer(String v, String key, int dflt, int min) {
    if (v == null) {
      return dflt;
    }
    int n;
    try {
      n = new java.math.BigDecimal(v.trim()).intValueExact(); // "3" or "3.0": a numeric map makes doubles
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("option '" + key + "' must be an integer; got '" + v + "'");
    }
    if (n < min) {
      throw new IllegalArgumentException("option '" + key + "' must be >= " + min + "; got " + n);
    }
    return n;
  }

  private static long parseLong(String v, String key) {
    try {
      return new java.math.BigDecimal(v.trim()).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("option '" + key + "' must be an integer; got '" + v + "'");
    }
  }

  private static double parseDouble(String v, String key) {
    try {
      double d = Double.parseDouble(v.trim());
      if (Double.isNaN(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("option '" + key + "' must be a number; got '" + v + "'");
    }
  }

  private static boolean bool(String v, String key) {
    if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new IllegalArgumentException("option '" + key + "' must be true or false; got '" + v + "'");
  }
}
