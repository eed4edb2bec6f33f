package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.weights.DType;

/**
 * A bias or layer-norm gain on the device, fp32 (size); with fused GEMMs also the checkpoint's own
 * 16-bit values (size), for epilogues that write 16-bit outputs.
 */
final class CudaVector implements Ops.Vector {
  final long address;
  final int size;
  private final long checkpointCopy; // (size) of checkpointType; 0 when not kept
  private final DType checkpointType;

  CudaVector(long address, int size) {
    this(address, size, 0, null);
  }

  CudaVector(long address, int size, long checkpointCopy, DType checkpointType) {
    this.address = address;
    this.size = size;
    this.checkpointCopy = checkpointCopy;
    this.checkpointType = checkpointType;
  }

  /** The values in type p, exactly as the checkpoint has them; 0 when there is no such copy. */
  long exactIn(Precision p) {
    return checkpointCopy != 0 && p.matches(checkpointType) ? checkpointCopy : 0;
  }

  @Override
  public int size() {
    return size;
  }
}
