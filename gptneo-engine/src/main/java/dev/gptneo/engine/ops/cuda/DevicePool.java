package dev.gptneo.engine.ops.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * KV-cache blocks kept for reuse when a sequence ends, by size: cudaMalloc is slow and cudaFree
 * waits for the device, and sequences of one batch ask for the same sizes again and again.
 */
final class DevicePool {
  private final Gpu gpu;
  private final Map<Long, ArrayDeque<Long>> idle = new HashMap<>(); // bytes -> free blocks
  private final Set<Long> inUse = new HashSet<>();
  private long idleBytes;
  private boolean closed;

  DevicePool(Gpu gpu) {
    this.gpu = gpu;
  }

  /** A block of exactly {@code bytes}; {@link OutOfMemoryError} when the device cannot hold it. */
  long take(long bytes) {
    ArrayDeque<Long> blocks = idle.get(bytes);
    long address;
    if (blocks != null && !blocks.isEmpty()) {
      idleBytes -= bytes;
      address = blocks.pop();
    } else {
      try {
        address = gpu.malloc(bytes);
      } catch (OutOfMemoryError e) {
        if (idleBytes == 0) {
          throw e;
        }
        release();
        address = gpu.malloc(bytes);
      }
    }
    inUse.add(address);
    return address;
  }

  void give(long address, long bytes) {
    if (closed || !inUse.remove(address)) {
      return; // the backend is gone and freed everything
    }
    idle.computeIfAbsent(bytes, b -> new ArrayDeque<>()).push(address);
    idleBytes += bytes;
  }

  /** Frees the idle blocks. */
  void release() {
    gpu.synchronize();
    idle.forEach((bytes, blocks) -> blocks.forEach(gpu::free));
    idle.clear();
    idleBytes = 0;
  }

  /** Frees every block, in use or not: sequences still open when the backend closes lose theirs. */
  void close() {
    release();
    inUse.forEach(gpu::free);
    inUse.clear();
    closed = true;
  }
}
