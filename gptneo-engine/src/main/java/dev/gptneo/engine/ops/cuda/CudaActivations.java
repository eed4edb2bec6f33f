package dev.gptneo.engine.ops.cuda;

import dev.gptneo.engine.ops.Ops;
import java.util.function.Consumer;

/**
 * fp32 activations on the device, (rows, cols) row-major, plus an optional 16-bit copy that the
 * kernels feeding a GEMM write alongside (layer norm, gelu, attention), so the GEMM reads it
 * directly instead of casting first. A residual stream may hold a pending bias: a linear layer's
 * bias that cuBLAS' path left to the next layer norm, which adds it as it reads (no bias_act pass);
 * any other reader or writer first has it added (settle).
 */
final class CudaActivations implements Ops.Activations {
  final long address;   // (rows, cols) fp32
  final int rows;
  final int cols;
  final boolean linearInput; // only linear layers read it: a write may leave only `half` (see fp32)
  final boolean attentionInput; // only attention reads it (q|k|v): likewise
  long half;            // (rows, cols) in the model's 16-bit precision; 0 until first needed
  int halfRows;         // leading rows of `half` that match the fp32 data; 0 after any other write
  private String fp32Missing; // why the fp32 data is not what was last computed; null when it is
  private long pendingBias;   // (cols) fp32 bias still to add to the first pendingRows rows, or 0
  private int pendingRows;
  private final Consumer<CudaActivations> addBias; // adds the pending bias (a bias_act launch)

  CudaActivations(long address, int rows, int cols, boolean linearInput, boolean attentionInput,
      Consumer<CudaActivations> addBias) {
    this.address = address;
    this.rows = rows;
    this.cols = cols;
    this.linearInput = linearInput;
    this.attentionInput = attentionInput;
    this.addBias = addBias;
  }

  /** Leaves bias (rows rows) to the next layer norm, after a write of the fp32 data without it. */
  void deferBias(long bias, int rows) {
    assert pendingBias == 0 && bias != 0;
    this.pendingBias = bias;
    this.pendingRows = rows;
  }

  /** The pending bias for a layer norm of these rows that adds it as it reads (it is then taken), or 0. */
  long takePendingBias(int rows) {
    if (pendingBias == 0 || rows != pendingRows) {
      settle();
      return 0;
    }
    long bias = pendingBias;
    pendingBias = 0;
    return bias;
  }

  /** Adds a pending bias now: before any other kernel reads or writes these activations. */
  void settle() {
    if (pendingBias != 0) {
      addBias.accept(this);
      pendingBias = 0;
    }
  }

  long pendingBias() {
    return pendingBias;
  }

  int pendingRows() {
    return pendingRows;
  }

  /** Records a write: the fp32 data, and the first halfRows rows of the 16-bit copy. */
  void wrote(int halfRows) {
    requireSettled();
    this.halfRows = halfRows;
    this.fp32Missing = null;
  }

  /** Records a write of the 16-bit copy alone (rows rows): only a GEMM on 16-bit inputs may read it. */
  void wroteHalfOnly(int rows) {
    assert linearInput && half != 0;
    requireSettled();
    this.halfRows = rows;
    this.fp32Missing = "hold only a 16-bit copy: they are a linear layer's input only (Ops.linearInput)";
  }

  /** Records a layer norm that wrote the 16-bit copy alone (rows rows), for the 16-bit GEMM after it (Ops.normLinear). */
  void wroteNormedHalfOnly(int rows) {
    assert half != 0;
    requireSettled();
    this.halfRows = rows;
    this.fp32Missing = "hold only a 16-bit copy: their layer norm's only reader was the GEMM after it "
        + "(Ops.normLinear)";
  }

  /** Records a GEMM that wrote q|k|v's 16-bit copy alone (rows rows), for the tensor-core prefill attention. */
  void wroteAttentionHalfOnly(int rows) {
    assert attentionInput && half != 0;
    requireSettled();
    this.halfRows = rows;
    this.fp32Missing = "hold only a 16-bit copy: a prompt step's q|k|v, which only the tensor-core attention "
        + "reads (Ops.attentionInput)";
  }

  /** Whether the last write was {@link #wroteAttentionHalfOnly} of at least rows rows. */
  boolean attentionHalfOnly(int rows) {
    return attentionInput && fp32Missing != null && half != 0 && halfRows >= rows;
  }

  /** Records that the write meant for these activations was fused into their reader (Ops.normLinear). */
  void skipped() {
    requireSettled();
    this.halfRows = 0;
    this.fp32Missing = "were never written: their layer norm was fused into the linear layer after it "
        + "(Ops.normLinear)";
  }

  /** The fp32 data, for a kernel named {@code reader}; an error when the last write left only the 16-bit copy. */
  long fp32(String reader) {
    settle();
    if (fp32Missing != null) {
      throw new IllegalStateException(reader + " reads fp32 activations (" + rows + ", " + cols + ") that "
          + fp32Missing);
    }
    return address;
  }

  /** A write over a pending bias would lose it or add it to the wrong data: the writer must settle first. */
  private void requireSettled() {
    if (pendingBias != 0) {
      throw new IllegalStateException("a kernel wrote activations (" + rows + ", " + cols + ") that still hold a "
          + "pending bias; settle() them first");
    }
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
