package dev.gptneo.engine.ops.cuda;

/**
 * A device buffer that grows to the largest size asked of it and never shrinks: memory of its
 * {@link CudaOps}, freed with it. A zeroed one (tickets: ints that the kernels leave zero after
 * each launch) is zero-filled whenever it grows.
 */
final class Scratch {
  private final CudaOps owner;
  private final boolean zeroed;
  private long address;
  private long bytes;

  Scratch(CudaOps owner) {
    this(owner, false);
  }

  private Scratch(CudaOps owner, boolean zeroed) {
    this.owner = owner;
    this.zeroed = zeroed;
  }

  /** Ints that are zero between launches: the last block of each group resets its ticket (gemv, decode attention). */
  static Scratch tickets(CudaOps owner) {
    return new Scratch(owner, true);
  }

  /** The buffer, at least {@code need} bytes; growing waits for queued work, which may still read it. */
  long atLeast(long need) {
    if (need > bytes) {
      if (address != 0) {
        owner.synchronizeDevice();
        owner.free(address);
      }
      bytes = Math.max(zeroed ? Math.max(need, 4096) : need, 2 * bytes);
      address = owner.alloc(bytes);
      if (zeroed) {
        owner.uploadZeros(address, bytes);
      }
    }
    return address;
  }
}
