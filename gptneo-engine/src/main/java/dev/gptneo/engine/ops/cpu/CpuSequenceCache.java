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
  private final int headDim;
  int length;

  CpuSequenceCache(GptNeoConfig config, int capacity) {
    this.capacity = capacity;
    this.headDim = config.headDim;
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

  /**
   * This cache := other's first other.length positions, slot by slot, and its length. The two may
   * differ in capacity as long as this one holds them: a local layer's ring then has the same
   * slots in both, or other's positions have not wrapped in either.
   */
  void copyFrom(CpuSequenceCache other) {
    if (other.headDim != headDim || other.slots.length != slots.length || other.length > capacity) {
      throw new IllegalArgumentException("KV caches of different models, or " + other.length
          + " positions into a cache of " + capacity);
    }
    for (int l = 0; l < slots.length; l++) {
      int from = other.slots[l];
      int to = slots[l];
      int used = Math.min(other.length, from);        // ring slots written so far
      assert from == to || other.length <= Math.min(from, to) : "a wrapped ring into one of another size";
      int heads = values[l].length / to / headDim;
      for (int c = 0; c < heads * headDim; c++) {      // keys: (heads * headDim) rows of slots
        System.arraycopy(other.keys[l], c * from, keys[l], c * to, used);
      }
      for (int h = 0; h < heads; h++) {                // values: (heads) blocks of (slots, headDim)
        System.arraycopy(other.values[l], h * from * headDim, values[l], h * to * headDim, used * headDim);
      }
    }
    length = other.length;
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
