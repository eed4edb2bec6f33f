package dev.gptneo.engine.bench;

import java.util.List;
import java.util.Locale;

/**
 * The shapes of the real GPT-Neo checkpoints (EleutherAI/gpt-neo-125m, -1.3B, -2.7B), for random
 * weights of the same size. Attention layers alternate global, local. {@link #TINY} is a
 * few-kilobyte model for tests; it is not listed in the usage.
 */
public final class ModelSize {
  public static final ModelSize TINY = new ModelSize("tiny", 64, 2, 4, 256, 8, 1000, 256);
  public static final ModelSize GPT_NEO_125M = new ModelSize("125M", 768, 12, 12, 3072, 256, 50257, 2048);
  public static final ModelSize GPT_NEO_1_3B = new ModelSize("1.3B", 2048, 24, 16, 8192, 256, 50257, 2048);
  public static final ModelSize GPT_NEO_2_7B = new ModelSize("2.7B", 2560, 32, 20, 10240, 256, 50257, 2048);

  /** The sizes {@code --random} takes (tiny included, though the usage does not advertise it). */
  public static final List<ModelSize> ALL = List.of(GPT_NEO_125M, GPT_NEO_1_3B, GPT_NEO_2_7B, TINY);

  public final String name;
  public final int hidden;
  public final int layers;
  public final int heads;
  public final int intermediate;
  public final int window;
  public final int vocab;
  public final int maxPositions;

  public ModelSize(String name, int hidden, int layers, int heads, int intermediate, int window, int vocab,
      int maxPositions) {
    if (hidden % heads != 0 || layers % 2 != 0) {
      throw new IllegalArgumentException("hidden must be divisible by heads and layers must be even");
    }
    this.name = name;
    this.hidden = hidden;
    this.layers = layers;
    this.heads = heads;
    this.intermediate = intermediate;
    this.window = window;
    this.vocab = vocab;
    this.maxPositions = maxPositions;
  }

  /** Parses 125M, 1.3B, 2.7B (any case, an optional "gpt-neo-" prefix) or tiny; null when unknown. */
  public static ModelSize parse(String s) {
    String k = s.trim().toLowerCase(Locale.ROOT);
    if (k.startsWith("gpt-neo-")) {
      k = k.substring("gpt-neo-".length());
    }
    for (ModelSize m : ALL) {
      if (m.name.toLowerCase(Locale.ROOT).equals(k)) {
        return m;
      }
    }
    return null;
  }

  /** Elements of the body's weight matrices (q, k, v, out, fc, proj of every layer): the matmul work per token. */
  public long bodyMatmulParams() {
    return (long) layers * (4L * hidden * hidden + 2L * hidden * intermediate);
  }

  /**
   * All parameters of the checkpoint the generator writes: embeddings, layers, ln_f and, when
   * {@code scoreLabels > 0}, the sequence-classification head (no lm_head: tied to wte).
   */
  public long parameters(int scoreLabels) {
    long d = hidden;
    long perLayer = 4 * d * d + d            // q, k, v, out + out bias
        + 2 * d * intermediate + intermediate + d // fc + bias, proj + bias
        + 4 * d;                               // ln_1, ln_2 gain and bias
    return (long) vocab * d + (long) maxPositions * d + layers * perLayer + 2 * d + (long) scoreLabels * d;
  }

  @Override
  public String toString() {
    return name + "(hidden=" + hidden + ", layers=" + layers + ", heads=" + heads + ", intermediate=" + intermediate
        + ", window=" + window + ", vocab=" + vocab + ", max_positions=" + maxPositions + ")";
  }
}
