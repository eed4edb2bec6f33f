package dev.gptneo.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.weights.DType;
import org.junit.jupiter.api.Test;

class WorkloadTest {
  private static Workload of(ModelSize s, double bytes) {
    return new Workload(GptNeoConfig.parse(RandomCheckpoint.configJson(s, DType.F32), "test"), bytes, Float.BYTES);
  }

  @Test
  void gptNeo125mIsAbout175MflopPerPrefillToken() {
    Workload w = of(ModelSize.GPT_NEO_125M, 4);
    assertEquals(84_934_656L, w.bodyMatmulParams());
    double perToken = w.prefillFlops(8, 256) / (8 * 256);
    // 2 x 84.9M matmul + attention over 128.5 keys on average, 12 layers of 4 x 768
    assertEquals(2 * 84_934_656.0 + 12 * 4 * 768 * 128.5, perToken, 1);
    assertTrue(perToken > 170e6 && perToken < 176e6, "issue 4: about 175 MFLOP per token");
  }

  @Test
  void scoringAddsTheLmHeadAtEveryTokenButTheLast() {
    Workload w = of(ModelSize.GPT_NEO_125M, 4);
    assertEquals(w.prefillFlops(8, 256) + 8 * 255 * w.lmHeadFlops(), w.scoreFlops(8, 256), 1);
  }

  @Test
  void localLayersSeeAtMostTheWindow() {
    Workload w = of(ModelSize.TINY, 4); // window 8, layer 0 global, layer 1 local
    assertEquals(1, w.keys(0, 0));
    assertEquals(101, w.keys(0, 100));
    assertEquals(8, w.keys(1, 100));
    assertEquals(3, w.keys(1, 2));
    double matmul = 2.0 * w.bodyMatmulParams();
    assertEquals(matmul + 4.0 * 64 * (101 + 8), w.tokenFlops(100), 1e-6);
  }

  @Test
  void aSixteenBitCacheReadsHalfTheKvBytes() {
    GptNeoConfig c = GptNeoConfig.parse(RandomCheckpoint.configJson(ModelSize.GPT_NEO_125M, DType.F16), "test");
    Workload cpu = new Workload(c, 2, Float.BYTES);
    Workload gpu = new Workload(c, 2, 2);
    assertEquals(cpu.kvBytes(200) / 2, gpu.kvBytes(200), 1e-6);
    assertEquals(cpu.weightBytesPerStep(), gpu.weightBytesPerStep(), 1e-6);
  }

  @Test
  void decodeReadsEveryWeightOncePerStep() {
    Workload f32 = of(ModelSize.GPT_NEO_125M, 4);
    Workload bf16 = of(ModelSize.GPT_NEO_125M, 2);
    // body matrices + the tied LM head: about 500 MB in f32 (issue 4: about 168 tokens/s at 84 GB/s)
    assertEquals((84_934_656.0 + 50257.0 * 768) * 4, f32.weightBytesPerStep(), 1);
    assertEquals(f32.weightBytesPerStep() / 2, bf16.weightBytesPerStep(), 1);
    double steps = 63;
    double kv = 0;
    for (int p = 64; p < 127; p++) {
      kv += f32.kvBytes(p);
    }
    assertEquals(steps * f32.weightBytesPerStep() + kv, f32.decodeBytes(1, 64, 64), 1);
    assertEquals(0, f32.decodeBytes(1, 64, 1), 0);
  }

  @Test
  void generationCountsTheLmHeadOncePerNewToken() {
    Workload w = of(ModelSize.TINY, 4);
    double expected = 2 * (w.bodyFlops(0, 10 + 5 - 1) + 5 * 2.0 * 64 * 1000);
    assertEquals(expected, w.generateFlops(2, 10, 5), 1e-6);
  }
}
