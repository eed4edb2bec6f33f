package dev.gptneo.engine.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.ModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GPT-Neo {@code config.json}, with Hugging Face's defaults for every absent field
 * ({@code GPTNeoConfig}). Unknown keys are ignored. Validated on parse. As in HF, the aliases
 * num_attention_heads / num_hidden_layers and a stored attention_layers list are applied after the
 * fields, so they win over num_heads / num_layers / attention_types.
 */
public final class GptNeoConfig {
  public final int vocabSize;              // default 50257
  public final int maxPositionEmbeddings;  // default 2048
  public final int hiddenSize;             // default 2048
  public final int numLayers;              // default 24
  public final int numHeads;               // default 16
  public final int headDim;                // hiddenSize / numHeads
  public final int intermediateSize;       // default null -> 4 * hiddenSize
  public final int windowSize;             // default 256
  public final List<AttentionType> layerTypes; // (numLayers), expanded from attention_types
  public final Activation activation;      // default gelu_new
  public final float layerNormEpsilon;     // default 1e-5
  public final int bosTokenId;             // default 50256
  public final int[] eosTokenIds;          // default [50256]; may be a list in config.json
  public final int padTokenId;             // default -1 (none)
  public final boolean tieWordEmbeddings;  // default true
  public final Map<Integer, String> id2label; // default {0: LABEL_0, 1: LABEL_1}
  public final ProblemType problemType;    // default: multi-label (sigmoid) for one label, else single-label
  public final List<String> architectures;

  private GptNeoConfig(JsonNode json, String source) {
    String modelType = text(json, "model_type", null);
    if (modelType == null) {
      throw new ModelException(source + ": no \"model_type\"; this does not look like a Hugging Face config.json");
    }
    if (!modelType.equals("gpt_neo")) {
      throw new ModelException(source + ": model_type is '" + modelType
          + "', but this engine runs GPT-Neo only (model_type 'gpt_neo'). Use a GPT-Neo checkpoint such as"
          + " EleutherAI/gpt-neo-125m.");
    }
    vocabSize = positive(json, "vocab_size", 50257, source);
    maxPositionEmbeddings = positive(json, "max_position_embeddings", 2048, source);
    hiddenSize = positive(json, "hidden_size", 2048, source);
    numLayers = positive(json, json.hasNonNull("num_hidden_layers") ? "num_hidden_layers" : "num_layers", 24, source);
    numHeads = positive(json, json.hasNonNull("num_attention_heads") ? "num_attention_heads" : "num_heads", 16, source);
    if (hiddenSize % numHeads != 0) {
      throw new ModelException(source + ": hidden_size " + hiddenSize + " is not divisible by num_heads " + numHeads);
    }
    headDim = hiddenSize / numHeads;
    JsonNode inter = json.get("intermediate_size");
    intermediateSize = inter == null || inter.isNull() ? 4 * hiddenSize : positive(json, "intermediate_size", 0, source);
    windowSize = positive(json, "window_size", 256, source);
    JsonNode stored = json.get("attention_layers");
    layerTypes = Collections.unmodifiableList(stored != null && !stored.isNull() ? attentionLayers(stored, source)
        : expandAttentionTypes(json.get("attention_types"), source));
    if (layerTypes.size() != numLayers) {
      throw new ModelException(source + ": " + (stored != null && !stored.isNull() ? "attention_layers lists "
          : "attention_types expands to ") + layerTypes.size() + " layers but num_layers is " + numLayers
          + "; they must match");
    }
    try {
      activation = Activation.parse(text(json, "activation_function", "gelu_new"));
    } catch (IllegalArgumentException e) {
      throw new ModelException(source + ": " + e.getMessage());
    }
    layerNormEpsilon = (float) number(json, "layer_norm_epsilon", 1e-5);
    bosTokenId = intOr(json, "bos_token_id", 50256);
    eosTokenIds = intList(json.get("eos_token_id"), 50256);
    padTokenId = intOr(json, "pad_token_id", -1);
    tieWordEmbeddings = json.has("tie_word_embeddings") ? json.get("tie_word_embeddings").asBoolean(true) : true;
    id2label = Collections.unmodifiableMap(parseId2Label(json, source));
    try {
      String problem = text(json, "problem_type", null);
      problemType = problem == null ? ProblemType.unsetFor(id2label.size()) : ProblemType.parse(problem);
    } catch (IllegalArgumentException e) {
      throw new ModelException(source + ": " + e.getMessage());
    }
    List<String> arch = new ArrayList<>();
    JsonNode a = json.get("architectures");
    if (a != null && a.isArray()) {
      a.forEach(n -> arch.add(n.asText()));
    }
    architectures = Collections.unmodifiableList(arch);
  }

  /** Parses a config.json text; {@code source} names it in error messages. */
  public static GptNeoConfig parse(String jsonText, String source) {
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(jsonText);
    } catch (IOException e) {
      throw new ModelException(source + " is not valid JSON: " + e.getMessage().split("\n")[0]);
    }
    if (json == null || !json.isObject()) {
      throw new ModelException(source + " must hold a JSON object");
    }
    return new GptNeoConfig(json, source);
  }

  /** Reads {@code dir/config.json}. */
  public static GptNeoConfig load(Path modelDir) {
    if (!Files.isDirectory(modelDir)) {
      throw new ModelException("model folder " + modelDir + " does not exist or is not a directory; pass a"
          + " Hugging Face GPT-Neo folder (config.json + model.safetensors)");
    }
    Path file = modelDir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw new ModelException("no config.json in " + modelDir + "; a Hugging Face model folder needs"
          + " config.json next to its weights");
    }
    try {
      return parse(Files.readString(file), file.toString());
    } catch (IOException e) {
      throw new ModelException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  public boolean isLocal(int layer) {
    return layerTypes.get(layer) == AttentionType.LOCAL;
  }

  /**
   * KV-cache slots of a layer for a sequence of up to {@code capacity} tokens: every position on a
   * global layer, the last window_size on a local one (a ring).
   */
  public int cacheSlots(int layer, int capacity) {
    return isLocal(layer) ? Math.min(windowSize, capacity) : capacity;
  }

  /** KV-cache slots of all layers together (each slot holds a key and a value of hidden floats). */
  public long cacheSlots(int capacity) {
    long slots = 0;
    for (int l = 0; l < numLayers; l++) {
      slots += cacheSlots(l, capacity);
    }
    return slots;
  }

  public int numLabels() {
    return id2label.size();
  }

  public boolean isEos(int token) {
    for (int e : eosTokenIds) {
      if (e == token) {
        return true;
      }
    }
    return false;
  }

  private static List<AttentionType> expandAttentionTypes(JsonNode node, String source) {
    List<AttentionType> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      for (int i = 0; i < 12; i++) { // HF default [[["global", "local"], 12]]
        out.add(AttentionType.GLOBAL);
        out.add(AttentionType.LOCAL);
      }
      return out;
    }
    String expected = "; expected a list like [[[\"global\", \"local\"], 12]]";
    if (!node.isArray()) {
      throw new ModelException(source + ": attention_types must be a list" + expected);
    }
    for (JsonNode item : node) {
      if (!item.isArray() || item.size() != 2 || !item.get(0).isArray() || !item.get(1).canConvertToInt()) {
        throw new ModelException(source + ": bad attention_types entry " + item + expected);
      }
      int repeat = item.get(1).asInt();
      for (int r = 0; r < repeat; r++) {
        for (JsonNode t : item.get(0)) {
          try {
            out.add(AttentionType.parse(t.asText()));
          } catch (IllegalArgumentException e) {
            throw new ModelException(source + ": " + e.getMessage());
          }
        }
      }
    }
    return out;
  }

  /** A stored attention_layers list, ["global", "local", ...]: HF sets it after expanding attention_types. */
  private static List<AttentionType> attentionLayers(JsonNode node, String source) {
    List<AttentionType> out = new ArrayList<>();
    if (!node.isArray()) {
      throw new ModelException(source + ": attention_layers must be a list like [\"global\", \"local\"]");
    }
    for (JsonNode t : node) {
      try {
        out.add(AttentionType.parse(t.asText()));
      } catch (IllegalArgumentException e) {
        throw new ModelException(source + ": attention_layers: " + e.getMessage());
      }
    }
    return out;
  }

  private static Map<Integer, String> parseId2Label(JsonNode json, String source) {
    Map<Integer, String> map = new LinkedHashMap<>();
    JsonNode node = json.get("id2label");
    if (node != null && node.isObject() && node.size() > 0) {
      Map<Integer, String> unordered = new java.util.TreeMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        try {
          unordered.put(Integer.parseInt(e.getKey()), e.getValue().asText());
        } catch (NumberFormatException ex) {
          throw new ModelException(source + ": id2label key '" + e.getKey() + "' is not an integer");
        }
      }
      for (int i = 0; i < unordered.size(); i++) {
        if (!unordered.containsKey(i)) {
          throw new ModelException(source + ": id2label must number its labels 0.." + (unordered.size() - 1));
        }
      }
      map.putAll(unordered);
      return map;
    }
    int n = json.has("num_labels") ? json.get("num_labels").asInt(2) : 2;
    for (int i = 0; i < n; i++) {
      map.put(i, "LABEL_" + i);
    }
    return map;
  }

  private static String text(JsonNode json, String key, String dflt) {
    JsonNode n = json.get(key);
    return n == null || n.isNull() ? dflt : n.asText();
  }

  private static double number(JsonNode json, String key, double dflt) {
    JsonNode n = json.get(key);
    return n == null || n.isNull() ? dflt : n.asDouble();
  }

  private static int intOr(JsonNode json, String key, int dflt) {
    JsonNode n = json.get(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (n.isArray()) {
      return n.size() == 0 ? dflt : n.get(0).asInt();
    }
    return n.asInt();
  }

  private static int positive(JsonNode json, String key, int dflt, String source) {
    JsonNode n = json.get(key);
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.canConvertToInt() || n.asInt() <= 0) {
      throw new ModelException(source + ": " + key + " must be a positive integer, got " + n);
    }
    return n.asInt();
  }

  private static int[] intList(JsonNode n, int dflt) {
    if (n == null || n.isNull()) {
      return new int[] {dflt};
    }
    if (n.isArray()) {
      int[] out = new int[n.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = n.get(i).asInt();
      }
      return out;
    }
    return new int[] {n.asInt()};
  }

  @Override
  public String toString() {
    return "GptNeoConfig{layers=" + numLayers + ", hidden=" + hiddenSize + ", heads=" + numHeads
        + ", intermediate=" + intermediateSize + ", window=" + windowSize + ", vocab=" + vocabSize
        + ", maxPositions=" + maxPositionEmbeddings + ", activation=" + activation.hfName + "}";
  }
}
