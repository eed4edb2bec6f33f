package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gptneo.engine.config.GptNeoConfig;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Copying a KV cache keeps every position's key and value, between caches of any capacity that holds them. */
class CpuSequenceCacheTest {
  // 2 layers (global, local), hidden 8, 2 heads of 4, window 6
  static final GptNeoConfig CONFIG = GptNeoConfig.parse("{\"model_type\": \"gpt_neo\", \"vocab_size\": 10,"
      + " \"max_position_embeddings\": 64, \"hidden_size\": 8, \"num_layers\": 2, \"num_heads\": 2,"
      + " \"window_size\": 6, \"attention_types\": [[[\"global\", \"local\"], 1]]}", "test config");

  /** Writes position p's key and value for every layer and channel: distinct random values. */
  private static void fill(CpuSequenceCache c, int length, long seed) {
    Random rnd = new Random(seed);
    for (int l = 0; l < 2; l++) {
      int slots = c.slots[l];
      for (int p = 0; p < length; p++) {
        for (int ch = 0; ch < 8; ch++) { // ch = head * headDim + d
          c.keys[l][ch * slots + p % slots] = rnd.nextFloat();
          c.values[l][((ch / 4) * slots + p % slots) * 4 + ch % 4] = rnd.nextFloat();
        }
      }
    }
    c.length = length;
  }

  private static void assertSamePositions(CpuSequenceCache a, CpuSequenceCache b) {
    assertEquals(a.length, b.length);
    for (int l = 0; l < 2; l++) {
      int from = Math.max(0, l == 1 ? a.length - CONFIG.windowSize : 0); // a local layer keeps its window
      for (int p = from; p < a.length; p++) {
        for (int ch = 0; ch < 8; ch++) {
          assertEquals(a.keys[l][ch * a.slots[l] + p % a.slots[l]], b.keys[l][ch * b.slots[l] + p % b.slots[l]],
              "key: layer " + l + " position " + p);
          assertEquals(a.values[l][((ch / 4) * a.slots[l] + p % a.slots[l]) * 4 + ch % 4],
              b.values[l][((ch / 4) * b.slots[l] + p % b.slots[l]) * 4 + ch % 4], "value: layer " + l + " position " + p);
        }
      }
    }
  }

  @Test
  void copiesBetweenCapacities() {
    int[][] cases = { // source capacity, length, destination capacity
        {20, 13, 20},  // same shape, the local ring wrapped
        {20, 13, 40},  // a longer destination: the same ring, more global slots
        {5, 4, 40},    // a short source whose ring is shorter than the window
        {5, 5, 5}};
    for (int[] c : cases) {
      CpuSequenceCache src = new CpuSequenceCache(CONFIG, c[0]);
      fill(src, c[1], c[0] * 100 + c[1]);
      CpuSequenceCache dst = new CpuSequenceCache(CONFIG, c[2]);
      fill(dst, Math.min(c[2], 9), 7); // stale contents to overwrite
      dst.copyFrom(src);
      assertSamePositions(src, dst);
    }
    CpuSequenceCache full = new CpuSequenceCache(CONFIG, 20);
    fill(full, 13, 1);
    assertThrows(IllegalArgumentException.class, () -> new CpuSequenceCache(CONFIG, 10).copyFrom(full));
  }
}
