package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Ops;

/** A bias or layer-norm gain on the device, fp32 (size). */
final class CudaVector implements Ops.Vector {
  final long address;
  final int size;

  CudaVector(long address, int size) {
    this.address = address;
    this.size = size;
  }

  @Override
  public int size() {
    return size;
  }
}
