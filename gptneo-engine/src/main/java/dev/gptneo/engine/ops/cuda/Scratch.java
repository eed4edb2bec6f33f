package dev.gptneo.engine.ops.cuda;

/**
 * A device buffer that grows to the largest size asked of it and never shrinks: memory of its
 * {@link CudaOps}, freed with it.
 */
final class Scratch {
  private final CudaOps owner;
  private long address;
  private long bytes;

  Scratch(CudaOps owner) {
    this.owner = owner;
  }

  /** The buffer, at least {@code need} bytes; growing waits for queued work, which may still read it. */
  long atLeast(long need) {
    if (need > bytes) {
      if (address != 0) {
        owner.synchronizeDevice();
        owner.free(address);
      }
      bytes = Math.max(need, 2 * bytes);
      address = owner.alloc(bytes);
    }
    return address;
  }
}
