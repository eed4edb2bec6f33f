package dev.gptneo.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A model's own generation settings, read from its generation_config.json as HF's generate() reads
 * them: they replace {@link GenerationParams}' defaults, and settings given with a call replace them
 * in turn. A folder without the file has GenerationParams' defaults. Settings HF would apply but
 * gptneo does not implement (num_beam_groups, force_words_ids, penalty_alpha, ...) are listed in
 * {@link #ignored}, which the engine logs as a warning.
 */
public final class GenerationDefaults {
  public static final String FILE = "generation_config.json";

  /** Keys that change HF's output but are not implemented here, with the value HF treats as "off". */
  private static final Map<String, String> UNSUPPORTED = Map.ofEntries(
      Map.entry("num_beam_groups", "1"), Map.entry("penalty_alpha", "null"), Map.entry("diversity_penalty", "0.0"),
      Map.entry("force_words_ids", "null"), Map.entry("num_return_sequences", "1"),
      Map.entry("encoder_repetition_penalty", "1.0"), Map.entry("guidance_scale", "null"),
      Map.entry("watermarking_config", "null"));
  /** Keys that do not change what is generated for one prompt (ids, output formats, caching, beam-only knobs). */
  private static final Set<String> NO_EFFECT = Set.of("bos_token_id", "pad_token_id", "decoder_start_token_id",
      "transformers_version", "_from_model_config", "use_cache", "output_attentions", "output_hidden_states",
      "output_scores", "output_logits", "return_dict_in_generate", "max_time", "cache_implementation", "remove_invalid_values");

  private static final GenerationDefaults NONE = new GenerationDefaults(GenerationParams.DEFAULT, false, List.of(),
      Map.of(), List.of(), FILE);

  /** The model's defaults (doSample included). */
  public final GenerationParams params;
  /** Whether the file turns sampling on (do_sample). */
  public final boolean sampling;
  /** "key=value" for each setting with an effect in HF that is not applied here. */
  public final List<String> ignored;
  /** The applied settings as the file wrote them, for logs. */
  public final Map<String, String> applied;
  /** What the file does that a user may not expect (the engine logs each as a warning). */
  public final List<String> warnings;
  private final String source; // the file the settings came from

  private GenerationDefaults(GenerationParams params, boolean sampling, List<String> ignored,
      Map<String, String> applied, List<String> warnings, String source) {
    this.source = source;
    this.params = params;
    this.sampling = sampling;
    this.ignored = List.copyOf(ignored);
    this.applied = Map.copyOf(applied);
    this.warnings = List.copyOf(warnings);
  }

  /** GenerationParams' own defaults: a folder without generation_config.json. */
  public static GenerationDefaults none() {
    return NONE;
  }

  /**
   * Reads modelDir/generation_config.json. Without it, as HF's from_model_config, the generation
   * settings at config.json's top level (eos_token_id, and rarely do_sample, max_length, ...), or
   * {@link #none()} when it has none to change. A value of the wrong kind, or one the engine's rules
   * refuse, fails naming the file and the setting.
   */
  public static GenerationDefaults load(Path modelDir) {
    Path file = modelDir.resolve(FILE);
    if (Files.isRegularFile(file)) {
      return parse(read(file), file, false);
    }
    Path config = modelDir.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      return NONE;
    }
    try {
      GenerationDefaults fromConfig = parse(read(config), config, true);
      return fromConfig.applied.isEmpty() && fromConfig.warnings.isEmpty() ? NONE : fromConfig;
    } catch (RuntimeException e) {
      return NONE; // an unreadable config.json fails the model's load with GptNeoConfig's own message
    }
  }

  private static JsonNode read(Path file) {
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage()
          + " (fix or delete the file; gptneo then uses its own generation defaults)", e);
    }
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException(file + " is not a JSON object");
    }
    return json;
  }

  /** modelConfig: config.json, where other keys are the model's and its eos is already the engine's default. */
  private static GenerationDefaults parse(JsonNode json, Path file, boolean modelConfig) {
    GenerationParams.Builder b = GenerationParams.builder();
    Map<String, String> applied = new TreeMap<>();
    List<String> ignored = new ArrayList<>();
    boolean sampling = false;
    int[] eos = null; // the file's eos_token_id
    for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      JsonNode v = e.getValue();
      if (v.isNull()) {
        continue; // HF's None: the setting is unset
      }
      switch (key) {
        case "do_sample": sampling = bool(file, key, v); break;
        case "max_new_tokens": b.maxNewTokens(integer(file, key, v)); break;
        case "min_new_tokens": b.minNewTokens(integer(file, key, v)); break;
        case "temperature": b.temperature(number(file, key, v)); break;
        case "top_k": b.topK(integer(file, key, v)); break;
        case "top_p": b.topP(number(file, key, v)); break;
        case "repetition_penalty": b.repetitionPenalty(number(file, key, v)); break;
        case "no_repeat_ngram_size": b.noRepeatNgramSize(integer(file, key, v)); break;
        case "stop_strings": b.stopStrings(strings(file, key, v)); break;
        case "num_beams": b.numBeams(integer(file, key, v)); break;
        case "length_penalty": b.lengthPenalty(number(file, key, v)); break;
        case "early_stopping":
          if (!v.isBoolean() && !"never".equals(v.asText())) {
            throw bad(file, key, v, "true, false or \"never\"");
          }
          b.earlyStopping(v.asText());
          break;
        case "max_length": b.maxLength(integer(file, key, v)); break; // a max_new_tokens wins (forPrompt)
        case "min_length": b.minLength(integer(file, key, v)); break;
        case "min_p": b.minP(number(file, key, v)); break;
        case "top_h": b.topH(number(file, key, v)); break;
        case "typical_p": b.typicalP(number(file, key, v)); break;
        case "epsilon_cutoff": b.epsilonCutoff(number(file, key, v)); break;
        case "eta_cutoff": b.etaCutoff(number(file, key, v)); break;
        case "forced_bos_token_id": b.forcedBosTokenId(integer(file, key, v)); break;
        case "forced_eos_token_id":
          b.forcedEosTokenIds(v.isArray() ? ids(file, key, v) : new int[] {integer(file, key, v)});
          break;
        case "renormalize_logits": b.renormalizeLogits(bool(file, key, v)); break;
        case "suppress_tokens": b.suppressTokens(ids(file, key, v)); break;
        case "begin_suppress_tokens": b.beginSuppressTokens(ids(file, key, v)); break;
        case "bad_words_ids":
        case "sequence_bias":
        case "exponential_decay_length_penalty":
          try {
            SettingForms.apply(key, v.toString(), b);
          } catch (IllegalArgumentException form) {
            throw new IllegalArgumentException(file + ": " + form.getMessage());
          }
          break;
        case "eos_token_id":
          eos = v.isArray() ? ids(file, key, v) : new int[] {integer(file, key, v)};
          if (modelConfig) {
            continue; // not an applied setting: see below
          }
          break;
        default:
          if (UNSUPPORTED.containsKey(key) && !v.isNull() && !v.asText().equals(UNSUPPORTED.get(key))
              && !(v.isNumber() && v.asDouble() == parseOrNaN(UNSUPPORTED.get(key)))) {
            ignored.add(key + "=" + v);
          } else if (!UNSUPPORTED.containsKey(key) && !NO_EFFECT.contains(key) && !modelConfig) {
            ignored.add(key + "=" + v + " (unknown)");
          }
          continue;
      }
      applied.put(key, v.toString());
    }
    // HF reads eos only from this file when it exists: without eos_token_id, nothing ends generation early
    b.doSample(sampling);
    boolean noEos = eos == null || eos.length == 0;
    if (!modelConfig || noEos) { // config.json's own eos ids are the engine's already
      b.eosTokenIds(noEos ? new int[0] : eos);
    }
    List<String> warnings = noEos ? List.of(file + " has no eos_token_id" + (modelConfig ? " (and there"
        + " is no " + FILE + ")" : "") + ": as in HF's generate(), generation then runs to max_new_tokens past any"
        + " eos (<|endoftext|>); add \"eos_token_id\": 50256 (or the model's eos) to the file, or pass"
        + " eos_token_id, to stop there") : List.of();
    try {
      return new GenerationDefaults(b.build(), sampling, ignored, applied, warnings,
          file.getFileName().toString());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return applied.isEmpty() ? "gptneo's defaults" : source + " " + applied;
  }

  private static double parseOrNaN(String s) {
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  private static boolean bool(Path file, String key, JsonNode v) {
    if (!v.isBoolean()) {
      throw bad(file, key, v, "true or false");
    }
    return v.booleanValue();
  }

  private static int integer(Path file, String key, JsonNode v) {
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw bad(file, key, v, "an integer");
    }
    return v.intValue();
  }

  private static double number(Path file, String key, JsonNode v) {
    if (!v.isNumber()) {
      throw bad(file, key, v, "a number");
    }
    return v.doubleValue();
  }

  /** A JSON list of token ids. */
  private static int[] ids(Path file, String key, JsonNode v) {
    if (!v.isArray()) {
      throw bad(file, key, v, "a list of token ids");
    }
    int[] out = new int[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = integer(file, key, v.get(i));
    }
    return out;
  }

  private static List<String> strings(Path file, String key, JsonNode v) {
    List<String> out = new ArrayList<>();
    if (v.isTextual()) {
      out.add(v.textValue());
    } else if (v.isArray()) {
      v.forEach(s -> {
        if (!s.isTextual()) {
          throw bad(file, key, v, "a string or a list of strings");
        }
        out.add(s.textValue());
      });
    } else if (!v.isNull()) {
      throw bad(file, key, v, "a string or a list of strings");
    }
    return out;
  }

  private static IllegalArgumentException bad(Path file, String key, JsonNode v, String want) {
    return new IllegalArgumentException(file + ": '" + key + "' must be " + want + ", got " + v);
  }
}
