package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Ops;

/** A bias or layer-norm weight as fp32 on the heap (small). */
final class CpuVector implements Ops.Vector {
  final float[] data; // (size)

  CpuVector(float[] data) {
    this.data = data;
  }

  @Override
  public int size() {
    return data.length;
  }
}
