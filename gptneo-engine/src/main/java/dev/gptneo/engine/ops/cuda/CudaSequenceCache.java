package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.config.GptNeoConfig;

import dev.gptneo.engine.ops.SequenceCache;

/**
 * One sequence's keys and values on the device, all layers in one block (layout in common.cuh:
 * per layer, keys (heads, slots, head_dim) then values; local layers a ring of window slots).
 * The block goes back to the pool when the sequence ends.
 */
final class CudaSequenceCache implements SequenceCache {
  final long address;
  final long bytes;
  final int capacity;
  final boolean[] localLayers; // (layers) the model's pattern: where each layer sits in the block
  final int heads;
  final int headDim;
  final int window;            // slots of a local layer's ring, at most the capacity
  int length;
  private DevicePool pool;

  CudaSequenceCache(DevicePool pool, long address, long bytes, int capacity, GptNeoConfig config) {
    this.pool = pool;
    this.address = address;
    this.bytes = bytes;
    this.capacity = capacity;
    this.localLayers = new boolean[config.numLayers];
    for (int l = 0; l < localLayers.length; l++) {
      localLayers[l] = config.isLocal(l);
    }
    this.heads = config.numHeads;
    this.headDim = config.hiddenSize / config.numHeads;
    this.window = config.windowSize;
  }

  /** Slots of layer l: position p lives in slot p % slots. */
  int slots(int layer) {
    return localLayers[layer] ? Math.min(window, capacity) : capacity;
  }

  /** Whether a copy between these two caches keeps their layout (one model, one precision). */
  boolean sameModelAs(CudaSequenceCache other) {
    return java.util.Arrays.equals(localLayers, other.localLayers) && heads == other.heads
        && headDim == other.headDim && window == other.window;
  }

  /** Block size: per layer 2 * slots * hidden elements. */
  static long bytes(GptNeoConfig config, int capacity, Precision p) {
    return config.cacheSlots(capacity) * 2 * config.hiddenSize * p.bytes;
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
    if (pool != null) {
      pool.give(address, bytes);
      pool = null;
    }
  }
}
