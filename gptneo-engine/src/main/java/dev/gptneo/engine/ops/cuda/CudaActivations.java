package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Ops;

/**
 * fp32 activations on the device, (rows, cols) row-major, plus an optional 16-bit copy that the
 * kernels feeding a GEMM write alongside (layer norm, gelu, attention), so the GEMM reads it
 * directly instead of casting first.
 */
final class CudaActivations implements Ops.Activations {
  final long address;   // (rows, cols) fp32
  final int rows;
  final int cols;
  long half;            // (rows, cols) in the model's 16-bit precision; 0 until first needed
  int halfRows;         // leading rows of `half` that match the fp32 data; 0 after any other write

  CudaActivations(long address, int rows, int cols) {
    this.address = address;
    this.rows = rows;
    this.cols = cols;
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
