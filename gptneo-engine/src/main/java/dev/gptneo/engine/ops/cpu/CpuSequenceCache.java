package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.SequenceCache;

/**
 * Keys and values of one sequence. Position p of a layer lives in slot p % slots(layer): global
 * layers have a slot for every position up to the capacity, local layers only {@code window_size}.
 */
final class CpuSequenceCache implements SequenceCache {
  final float[][] keys;   // (layer) -> (heads, headDim, slots): transposed, so scores read keys contiguously
  final float[][] values; // (layer) -> (heads, slots, headDim)
  final int[] slots;      // (layer)
  private final int capacity;
  int length;

  CpuSequenceCache(GptNeoConfig config, int capacity) {
    this.capacity = capacity;
    int layers = config.numLayers;
    keys = new float[layers][];
    values = new float[layers][];
    slots = new int[layers];
    for (int l = 0; l < layers; l++) {
      slots[l] = config.cacheSlots(l, capacity);
      keys[l] = new float[slots[l] * config.hiddenSize + CpuKernels.PAD];
      values[l] = new float[slots[l] * config.hiddenSize];
    }
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public int capacity() {
    return capacity;
  }

  @Override
  public void close() {
    // heap memory: the garbage collector frees it
  }
}
