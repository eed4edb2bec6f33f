package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.testing.TinyCheckpoints;
import dev.gptneo.engine.weights.SafetensorsFile;
import dev.gptneo.engine.weights.TensorView;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Test inputs for any backend through the {@link Ops} interface only: tensors written to
 * safetensors files, and activations filled by embedding rows of a table (wte = the data,
 * wpe = 0), so the CPU reference and the GPU receive bit-identical inputs. Values are multiples
 * of 1/64 below 2 in magnitude: exact in fp32, fp16 and bf16 alike.
 */
final class OpsInputs {
  private final Path dir;
  private final Random random;
  private int files;

  OpsInputs(Path dir, long seed) {
    this.dir = dir;
    this.random = new Random(seed);
  }

  /** n values k / 64 * scale, |k| &lt; 128 (scale a power of two keeps them exact). */
  float[] values(int n, float scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (random.nextInt(255) - 127) / 64f * scale;
    }
    return v;
  }

  /** A tensor of the given dtype ("F32", "F16", "BF16") and shape holding values. */
  TensorView tensor(String dtype, float[] values, long... shape) {
    Map<String, TinyCheckpoints.Tensor> m = new LinkedHashMap<>();
    m.put("t", new TinyCheckpoints.Tensor(dtype, shape, values));
    Path file = dir.resolve("t" + files++ + ".safetensors");
    TinyCheckpoints.writeSafetensors(file, m);
    return SafetensorsFile.open(file).get("t");
  }

  /**
   * Activations (rows, cols) of {@code ops} holding data, through embed: wte = data, wpe = -0, and
   * x + (-0) is x for every x, signed zeros and infinities included.
   */
  Ops.Activations activations(Ops ops, String dtype, float[] data, int rows, int cols) {
    Ops.Matrix wte = ops.matrix(tensor(dtype, data, rows, cols));
    float[] minusZero = new float[rows * cols];
    java.util.Arrays.fill(minusZero, -0f);
    Ops.Matrix wpe = ops.matrix(tensor(dtype, minusZero, rows, cols));
    GptNeoConfig one = GptNeoConfig.parse("{\"model_type\":\"gpt_neo\",\"hidden_size\":" + cols
        + ",\"num_heads\":1,\"num_layers\":1,\"attention_types\":[[[\"global\"],1]],\"max_position_embeddings\":"
        + Math.max(rows, 1) + "}", "test inputs");
    Ops.Activations out = ops.activations(rows, cols);
    int[] ids = new int[rows];
    for (int i = 0; i < rows; i++) {
      ids[i] = i;
    }
    try (SequenceCache cache = ops.newSequenceCache(one, rows)) {
      Step step = new Step(rows, 1);
      step.add(cache, ids, 0, rows);
      ops.embed(step, wte, wpe, out);
    }
    return out;
  }

  static float[] read(Ops ops, Ops.Activations a, int rows) {
    float[] out = new float[rows * a.cols()];
    ops.read(a, rows, out);
    return out;
  }
}
