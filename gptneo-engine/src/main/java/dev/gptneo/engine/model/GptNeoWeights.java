package dev.gptneo.engine.model;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.weights.Checkpoint;
import dev.gptneo.engine.weights.TensorView;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tensors of a GPT-Neo checkpoint, checked against the config and handed to a backend.
 * Names are normalized: with or without the {@code transformer.} prefix, and the attention mask
 * buffers {@code attn.attention.bias} / {@code masked_bias} are ignored. Without
 * {@code lm_head.weight}, the LM head is tied to {@code wte}.
 */
public final class GptNeoWeights {
  private static final Logger LOG = LoggerFactory.getLogger(GptNeoWeights.class);

  /** One transformer block. Matrices are [out, in]. */
  public static final class Layer {
    public final Ops.Vector ln1Gamma, ln1Beta;   // (hidden)
    public final Ops.Matrix qkv;                 // (3 * hidden, hidden): q, k, v stacked; no bias
    public final Ops.Matrix out;                 // (hidden, hidden)
    public final Ops.Vector outBias;             // (hidden)
    public final Ops.Vector ln2Gamma, ln2Beta;   // (hidden)
    public final Ops.Matrix fc;                  // (intermediate, hidden)
    public final Ops.Vector fcBias;              // (intermediate)
    public final Ops.Matrix proj;                // (hidden, intermediate)
    public final Ops.Vector projBias;            // (hidden)

    Layer(Loader l, int i) {
      String p = "h." + i + ".";
      int d = l.config.hiddenSize;
      int inter = l.config.intermediateSize;
      ln1Gamma = l.vector(p + "ln_1.weight", d);
      ln1Beta = l.vector(p + "ln_1.bias", d);
      qkv = l.ops.matrix(l.get(p + "attn.attention.q_proj.weight", d, d), l.get(p + "attn.attention.k_proj.weight", d, d),
          l.get(p + "attn.attention.v_proj.weight", d, d));
      out = l.matrix(p + "attn.attention.out_proj.weight", d, d);
      outBias = l.vector(p + "attn.attention.out_proj.bias", d);
      ln2Gamma = l.vector(p + "ln_2.weight", d);
      ln2Beta = l.vector(p + "ln_2.bias", d);
      fc = l.matrix(p + "mlp.c_fc.weight", inter, d);
      fcBias = l.vector(p + "mlp.c_fc.bias", inter);
      proj = l.matrix(p + "mlp.c_proj.weight", d, inter);
      projBias = l.vector(p + "mlp.c_proj.bias", d);
    }
  }

  public final Ops.Matrix wte;            // (vocab, hidden)
  public final Ops.Matrix wpe;            // (maxPositions, hidden)
  public final Layer[] layers;            // (numLayers)
  public final Ops.Vector lnFGamma, lnFBeta; // (hidden)
  public final Ops.Matrix lmHead;         // (vocab, hidden); wte when tied
  public final boolean lmHeadTied;
  public final Ops.Matrix score;          // (numLabels, hidden), no bias; null without a sequence-classification head
  public final Ops.Matrix classifier;     // (numTokenLabels, hidden); null without a token-classification head
  public final Ops.Vector classifierBias;
  public final Ops.Matrix qaOutputs;      // (2, hidden); null without a QA head
  public final Ops.Vector qaBias;

  public GptNeoWeights(GptNeoConfig config, Checkpoint checkpoint, Ops ops) {
    Loader l = new Loader(config, checkpoint, ops);
    int d = config.hiddenSize;
    wte = l.matrix("wte.weight", config.vocabSize, d);
    wpe = l.matrix("wpe.weight", config.maxPositionEmbeddings, d);
    layers = new Layer[config.numLayers];
    for (int i = 0; i < layers.length; i++) {
      layers[i] = new Layer(l, i);
    }
    lnFGamma = l.vector("ln_f.weight", d);
    lnFBeta = l.vector("ln_f.bias", d);
    lmHeadTied = !l.has("lm_head.weight");
    lmHead = lmHeadTied ? wte : l.matrix("lm_head.weight", config.vocabSize, d);
    score = l.has("score.weight") ? l.matrix("score.weight", -1, d) : null;
    classifier = l.has("classifier.weight") ? l.matrix("classifier.weight", -1, d) : null;
    classifierBias = classifier == null ? null
        : l.has("classifier.bias") ? l.vector("classifier.bias", classifier.rows()) : null;
    qaOutputs = l.has("qa_outputs.weight") ? l.matrix("qa_outputs.weight", 2, d) : null;
    qaBias = qaOutputs == null ? null : l.has("qa_outputs.bias") ? l.vector("qa_outputs.bias", 2) : null;
    if (lmHeadTied && !config.tieWordEmbeddings) {
      LOG.warn("config.json sets tie_word_embeddings=false but the checkpoint has no lm_head.weight: the LM head is"
          + " tied to wte (HF would use a random head); generation and scores may be meaningless");
    }
    List<String> unused = l.unused();
    if (!unused.isEmpty()) {
      LOG.warn("{} tensors of the checkpoint are not used by this config (more layers than num_layers?): {}{}",
          unused.size(), unused.subList(0, Math.min(5, unused.size())), unused.size() > 5 ? " ..." : "");
    }
  }

  /** Looks tensors up by normalized name and checks their shapes. */
  private static final class Loader {
    final GptNeoConfig config;
    final Ops ops;
    final Map<String, TensorView> byName = new HashMap<>();
    final java.util.Set<String> used = new java.util.HashSet<>();

    Loader(GptNeoConfig config, Checkpoint checkpoint, Ops ops) {
      this.config = config;
      this.ops = ops;
      for (Map.Entry<String, TensorView> e : checkpoint.tensors().entrySet()) {
        String name = e.getKey();
        if (name.endsWith("attn.attention.bias") || name.endsWith("attn.attention.masked_bias")) {
          continue; // causal-mask buffers of old checkpoints, not weights
        }
        if (name.startsWith("transformer.")) {
          name = name.substring("transformer.".length());
        }
        byName.put(name, e.getValue());
      }
    }

    boolean has(String name) {
      return byName.containsKey(name);
    }

    List<String> unused() {
      List<String> names = new java.util.ArrayList<>();
      for (String n : byName.keySet()) {
        if (!used.contains(n)) {
          names.add(n);
        }
      }
      java.util.Collections.sort(names);
      return names;
    }

    TensorView get(String name, long... shape) {
      used.add(name);
      TensorView t = byName.get(name);
      if (t == null) {
        throw new ModelException("the checkpoint has no tensor '" + name + "' (or 'transformer." + name
            + "'); the model folder is incomplete or is not a GPT-Neo checkpoint matching its config.json");
      }
      if (!t.dtype.isFloatWeight()) {
        throw new ModelException("tensor '" + t.name + "' has dtype " + t.dtype
            + "; weights must be F32, F16 or BF16");
      }
      boolean ok = t.shape.length == shape.length;
      for (int i = 0; ok && i < shape.length; i++) {
        ok = shape[i] < 0 || shape[i] == t.shape[i];
      }
      if (!ok) {
        throw new ModelException("tensor '" + t.name + "' has shape " + Arrays.toString(t.shape) + " but config.json ("
            + config + ") needs " + Arrays.toString(shape).replace("-1", "*"));
      }
      return t;
    }

    Ops.Matrix matrix(String name, int rows, int cols) {
      return ops.matrix(get(name, rows, cols));
    }

    Ops.Vector vector(String name, int size) {
      return ops.vector(get(name, size));
    }
  }
}
