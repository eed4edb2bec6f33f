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
  final boolean linearInput; // only linear layers read it: a write may leave only `half` (see fp32)
  long half;            // (rows, cols) in the model's 16-bit precision; 0 until first needed
  int halfRows;         // leading rows of `half` that match the fp32 data; 0 after any other write
  private String fp32Missing; // why the fp32 data is not what was last computed; null when it is

  CudaActivations(long address, int rows, int cols, boolean linearInput) {
    this.address = address;
    this.rows = rows;
    this.cols = cols;
    this.linearInput = linearInput;
  }

  /** Records a write: the fp32 data, and the first halfRows rows of the 16-bit copy. */
  void wrote(int halfRows) {
    this.halfRows = halfRows;
    this.fp32Missing = null;
  }

  /** Records a write of the 16-bit copy alone (rows rows): only a GEMM on 16-bit inputs may read it. */
  void wroteHalfOnly(int rows) {
    assert linearInput && half != 0;
    this.halfRows = rows;
    this.fp32Missing = "hold only a 16-bit copy: they are a linear layer's input only (Ops.linearInput)";
  }

  /** Records a layer norm that wrote the 16-bit copy alone (rows rows), for the 16-bit GEMM after it (Ops.normLinear). */
  void wroteNormedHalfOnly(int rows) {
    assert half != 0;
    this.halfRows = rows;
    this.fp32Missing = "hold only a 16-bit copy: their layer norm's only reader was the GEMM after it "
        + "(Ops.normLinear)";
  }

  /** Records that the write meant for these activations was fused into their reader (Ops.normLinear). */
  void skipped() {
    this.halfRows = 0;
    this.fp32Missing = "were never written: their layer norm was fused into the linear layer after it "
        + "(Ops.normLinear)";
  }

  /** The fp32 data, for a kernel named {@code reader}; an error when the last write left only the 16-bit copy. */
  long fp32(String reader) {
    if (fp32Missing != null) {
      throw new IllegalStateException(reader + " reads fp32 activations (" + rows + ", " + cols + ") that "
          + fp32Missing);
    }
    return address;
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
