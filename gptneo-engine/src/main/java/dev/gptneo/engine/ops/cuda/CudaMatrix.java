package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Ops;

/** A weight matrix on the device: (rows, cols) row-major, Hugging Face's [out, in], in {@code precision}. */
final class CudaMatrix implements Ops.Matrix {
  final long address;
  final int rows;
  final int cols;
  final Precision precision;
  /** Matrices of equal rows stacked into this one (q, k and v: 3), else 1. */
  final int parts;

  CudaMatrix(long address, int rows, int cols, Precision precision) {
    this(address, rows, cols, precision, 1);
  }

  CudaMatrix(long address, int rows, int cols, Precision precision, int parts) {
    this.address = address;
    this.rows = rows;
    this.cols = cols;
    this.precision = precision;
    this.parts = parts;
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
