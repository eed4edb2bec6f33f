package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Step;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Attention of the Vector API kernels against the scalar reference, for windows smaller than,
 * equal to and larger than the sequence, and a prompt split into chunks (ring buffer wraps). Also:
 * how a prompt is cut into steps must not change a single bit of the result.
 */
class CpuAttentionTest {
  static GptNeoConfig config(int hidden, int heads, int window) {
    return GptNeoConfig.parse("{\"model_type\":\"gpt_neo\",\"hidden_size\":" + hidden + ",\"num_heads\":" + heads
        + ",\"num_layers\":2,\"attention_types\":[[[\"global\",\"local\"],1]],\"window_size\":" + window + "}", "test");
  }

  /** Runs both layers of attention over the sequence, cut into steps of the given sizes; returns outputs. */
  static float[] run(CpuKernels kernels, GptNeoConfig c, float[] qkvAll, int length, int[] chunks) {
    int hidden = c.hiddenSize;
    float[] out = new float[2 * length * hidden]; // (layer, position, hidden)
    CpuSequenceCache cache = new CpuSequenceCache(c, length);
    int pos = 0;
    for (int chunk : chunks) {
      Step step = new Step(chunk, 1);
      step.add(cache, new int[length], pos, chunk);
      for (int layer = 0; layer < 2; layer++) {
        float[] qkv = Arrays.copyOfRange(qkvAll, (layer * length + pos) * 3 * hidden,
            (layer * length + pos + chunk) * 3 * hidden);
        float[] o = new float[chunk * hidden];
        for (int h = 0; h < c.numHeads; h++) {
          CpuAttention.attendHead(kernels, step, 0, h, layer, c.isLocal(layer), c.windowSize, c.headDim, hidden, qkv, o);
        }
        CpuAttention.store(step, 0, layer, hidden, c.headDim, qkv);
        System.arraycopy(o, 0, out, (layer * length + pos) * hidden, chunk * hidden);
      }
      cache.length += chunk;
      pos += chunk;
    }
    return out;
  }

  @Test
  void vectorMatchesScalarAndChunkingChangesNothing() {
    assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
    CpuKernels fast = VectorSupport.kernels();
    Random rnd = new Random(3);
    int[][] hiddenHeads = {{64, 4}, {96, 3}, {128, 2}};
    for (int[] hh : hiddenHeads) {
      for (int window : new int[] {1, 5, 16, 37, 64}) {
        int length = 37;
        GptNeoConfig c = config(hh[0], hh[1], window);
        float[] qkv = TestMatrices.randomArray(rnd, 2 * length * 3 * hh[0], 1f);
        float[] reference = run(new ScalarKernels(), c, qkv, length, new int[] {length});
        float[] whole = run(fast, c, qkv, length, new int[] {length});
        String what = "hidden " + hh[0] + " heads " + hh[1] + " window " + window;
        for (int i = 0; i < whole.length; i++) {
          assertTrue(Math.abs(reference[i] - whole[i]) <= 1e-4 * (1 + Math.abs(reference[i])), what + " at " + i);
        }
        int[] oneByOne = new int[length];
        Arrays.fill(oneByOne, 1);
        assertArrayEquals(whole, run(fast, c, qkv, length, new int[] {5, 11, 1, 20}), what + ": chunks 5,11,1,20");
        assertArrayEquals(whole, run(fast, c, qkv, length, new int[] {3, 3, 31}), what + ": chunks 3,3,31");
        assertArrayEquals(whole, run(fast, c, qkv, length, oneByOne), what + ": one token per step");
        float[] refChunked = run(new ScalarKernels(), c, qkv, length, new int[] {4, 33});
        for (int i = 0; i < whole.length; i++) {
          assertTrue(Math.abs(reference[i] - refChunked[i]) <= 1e-5 * (1 + Math.abs(reference[i])), what);
        }
      }
    }
  }
}
