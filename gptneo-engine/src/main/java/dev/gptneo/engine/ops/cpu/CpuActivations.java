package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Ops;

/** fp32 activations on the heap: (rows, cols) row-major. */
final class CpuActivations implements Ops.Activations {
  final float[] data; // (rows, cols)
  final int rows;
  final int cols;

  CpuActivations(int rows, int cols) {
    this.rows = rows;
    this.cols = cols;
    this.data = new float[Math.multiplyExact(rows, cols)];
  }

  @Override
  public int rows() {
    return rows;
  }

  @Override
  public int cols() {
    return cols;
  }
}
