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
  final GptNeoConfig config;  // the model's: its layer pattern places each layer in the block
  int length;
  private DevicePool pool;

  CudaSequenceCache(DevicePool pool, long address, long bytes, int capacity, GptNeoConfig config) {
    this.pool = pool;
    this.address = address;
    this.bytes = bytes;
    this.capacity = capacity;
    this.config = config;
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
