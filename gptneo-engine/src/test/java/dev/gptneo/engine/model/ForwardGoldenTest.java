package dev.gptneo.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.ops.cpu.CpuOps;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.weights.Checkpoint;
import dev.gptneo.engine.weights.SafetensorsFile;
import java.nio.file.Path;
import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.ops.cpu.VectorSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The forward pass against HF's logits and hidden states, on every CPU kernel path. */
class ForwardGoldenTest {
  /** "scalar", "packed" (Vector API, packed weights) or "mapped" (Vector API over the mmap). */
  static CpuOps ops(String path) {
    if (path.equals("scalar")) {
      return CpuOps.scalar(2);
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
    return CpuOps.create(EngineOptions.Kernels.VECTOR, 2, path.equals("packed"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "packed", "mapped"})
  void tinyNeoLogitsAllPositions(String path) {
    Path dir = Goldens.path("golden/tiny-neo/causal-lm");
    SafetensorsFile golden = Goldens.tensors("golden/tiny-neo/golden.safetensors");
    GptNeoConfig config = GptNeoConfig.load(dir);
    try (CpuOps ops = ops(path)) {
      GptNeoWeights w = new GptNeoWeights(config, Checkpoint.open(dir), ops);
      GptNeoModel model = new GptNeoModel(config, w, ops, 256, 16);
      for (int p = 0; p < 4; p++) {
        int[] ids = golden.get("forward." + p + ".input_ids").toIntArray();
        float[] expected = golden.get("forward." + p + ".logits").toFloatArray();
        Step step = new Step(256, 4);
        SequenceCache cache = ops.newSequenceCache(config, ids.length);
        step.add(cache, ids, 0, ids.length);
        model.forward(step);
        float[] got = new float[config.vocabSize];
        double maxErr = 0;
        for (int t = 0; t < ids.length; t++) {
          model.head(w.lmHead, null, new int[] {t}, 1, got);
          for (int i = 0; i < got.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(got[i] - expected[t * config.vocabSize + i]));
          }
        }
        assertTrue(maxErr < 1e-4, "max err " + maxErr);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"scalar", "packed", "mapped"})
  void midNeoShardedF16ProbeLogitsAndArgmax(String path) {
    Path dir = Goldens.path("golden/mid-neo/causal-lm");
    SafetensorsFile golden = Goldens.tensors("golden/mid-neo/golden.safetensors");
    GptNeoConfig config = GptNeoConfig.load(dir);
    try (CpuOps ops = ops(path)) {
      GptNeoWeights w = new GptNeoWeights(config, Checkpoint.open(dir), ops);
      GptNeoModel model = new GptNeoModel(config, w, ops, 1024, 16);
      for (int p = 0; p < 3; p++) {
        int[] ids = golden.get("forward." + p + ".input_ids").toIntArray();
        int[] argmax = golden.get("forward." + p + ".argmax").toIntArray();
        int[] probes = golden.get("forward." + p + ".probe_positions").toIntArray();
        float[] probeLogits = golden.get("forward." + p + ".probe_logits").toFloatArray();
        Step step = new Step(1024, 4);
        step.add(ops.newSequenceCache(config, ids.length), ids, 0, ids.length);
        model.forward(step);
        float[] got = new float[config.vocabSize];
        int mismatches = 0;
        double maxErr = 0;
        for (int t = 0; t < ids.length; t++) {
          model.head(w.lmHead, null, new int[] {t}, 1, got);
          int best = 0;
          for (int i = 1; i < got.length; i++) {
            if (got[i] > got[best]) {
              best = i;
            }
          }
          if (best != argmax[t] && got[best] - got[argmax[t]] > 1e-3) {
            mismatches++;
          }
          for (int pi = 0; pi < probes.length; pi++) {
            if (probes[pi] == t) {
              for (int i = 0; i < got.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(got[i] - probeLogits[pi * config.vocabSize + i]));
              }
            }
          }
        }
        assertEquals(0, mismatches);
        assertTrue(maxErr < 1e-3, "max err " + maxErr);
      }
    }
  }

  /** HF's hidden_states: [0] embeddings, [i] output of block i-1, [L] after ln_f. */
  @Test
  void tinyNeoHiddenStatesLayerByLayer() {
    Path dir = Goldens.path("golden/tiny-neo/causal-lm");
    SafetensorsFile golden = Goldens.tensors("golden/tiny-neo/golden.safetensors");
    GptNeoConfig config = GptNeoConfig.load(dir);
    try (CpuOps ops = CpuOps.scalar(2)) {
      GptNeoWeights w = new GptNeoWeights(config, Checkpoint.open(dir), ops);
      GptNeoModel model = new GptNeoModel(config, w, ops, 256, 16);
      int[] ids = golden.get("forward.0.input_ids").toIntArray();
      Step step = new Step(256, 1);
      step.add(ops.newSequenceCache(config, ids.length), ids, 0, ids.length);
      int d = config.hiddenSize;
      float[] got = new float[ids.length * d];
      int[] checked = {0};
      model.forward(step, (layer, x, n) -> {
        if (layer < config.numLayers) {
          ops.read(x, n, got);
          assertClose(golden.get("forward.0.hidden." + layer).toFloatArray(), got, 1e-4, "hidden " + layer);
          checked[0]++;
        }
      });
      ops.read(model.hidden(), ids.length, got);
      assertClose(golden.get("forward.0.hidden." + config.numLayers).toFloatArray(), got, 1e-4, "after ln_f");
      assertEquals(config.numLayers, checked[0]);
    }
  }

  /** Prefill, then one token per step through the KV cache (the local ring wraps: window 8). */
  @ParameterizedTest
  @ValueSource(strings = {"scalar", "packed", "mapped"})
  void tinyNeoIncrementalDecodeMatchesStepLogits(String path) {
    Path dir = Goldens.path("golden/tiny-neo/causal-lm");
    SafetensorsFile golden = Goldens.tensors("golden/tiny-neo/golden.safetensors");
    GptNeoConfig config = GptNeoConfig.load(dir);
    try (CpuOps ops = ops(path)) {
      GptNeoWeights w = new GptNeoWeights(config, Checkpoint.open(dir), ops);
      GptNeoModel model = new GptNeoModel(config, w, ops, 256, 4);
      for (int p = 0; p < 4; p++) {
        int[] prompt = golden.get("forward." + p + ".input_ids").toIntArray();
        int[] out = golden.get("greedy." + p + ".output_ids").toIntArray();
        float[] stepLogits = golden.get("greedy." + p + ".step_logits").toFloatArray();
        int steps = stepLogits.length / config.vocabSize;
        SequenceCache cache = ops.newSequenceCache(config, out.length);
        Step step = new Step(256, 1);
        float[] got = new float[config.vocabSize];
        for (int s = 0; s < steps; s++) {
          step.clear();
          int from = s == 0 ? 0 : prompt.length + s - 1;
          int count = s == 0 ? prompt.length : 1;
          step.add(cache, out, from, count);
          model.forward(step);
          model.head(w.lmHead, null, new int[] {step.lastRow(0)}, 1, got);
          float[] expected = java.util.Arrays.copyOfRange(stepLogits, s * config.vocabSize, (s + 1) * config.vocabSize);
          assertClose(expected, got, 1e-4, "prompt " + p + " step " + s);
        }
        assertEquals(prompt.length + steps - 1, cache.length());
      }
    }
  }

  static void assertClose(float[] expected, float[] got, double tol, String what) {
    double maxErr = 0;
    for (int i = 0; i < expected.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(expected[i] - got[i]));
    }
    assertTrue(maxErr <= tol, what + ": max |err| " + maxErr + " > " + tol);
  }
}
