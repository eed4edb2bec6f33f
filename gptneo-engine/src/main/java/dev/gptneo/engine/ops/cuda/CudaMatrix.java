package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Ops;

/** A weight matrix on the device: (rows, cols) row-major, Hugging Face's [out, in], in {@code precision}. */
final class CudaMatrix implements Ops.Matrix {
  final long address;
  final int rows;
  final int cols;
  final Precision precision;

  CudaMatrix(long address, int rows, int cols, Precision precision) {
    this.address = address;
    this.rows = rows;
    this.cols = cols;
    this.precision = precision;
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
