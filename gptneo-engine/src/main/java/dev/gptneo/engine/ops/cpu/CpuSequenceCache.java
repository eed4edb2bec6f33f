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

  /** This cache := other (same config and capacity): the slots in use, row by row, and the length. */
  void copyFrom(CpuSequenceCache other) {
    if (other.capacity != capacity || other.headDim != headDim || other.slots.length != slots.length) {
      throw new IllegalArgumentException("KV caches of different shapes");
    }
    for (int l = 0; l < slots.length; l++) {
      int n = slots[l];
      int used = Math.min(other.length, n);           // ring slots written so far
      int rows = (values[l].length / n) / headDim;    // heads
      for (int c = 0; c < rows * headDim; c++) {       // keys: (heads * headDim) rows of n slots
        System.arraycopy(other.keys[l], c * n, keys[l], c * n, used);
      }
      for (int h = 0; h < rows; h++) {                 // values: (heads) blocks of (n, headDim)
        System.arraycopy(other.values[l], h * n * headDim, values[l], h * n * headDim, used * headDim);
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
