package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;

/**
 * The inner loops of the CPU backend. {@link ScalarKernels} is the plain reference; fast
 * implementations must give the same results within float rounding, and each output element must
 * not depend on which other rows share the call (so a sequence's result is the same in any batch).
 */
interface CpuKernels {
  /** Floats of slack kept past the end of attention buffers, so vector kernels may over-read. */
  int PAD = 256;

  String name();

  /**
   * Called once per weight at load; with {@code pack}, may attach a packed layout to
   * {@code w.packed} (heap memory), else the kernels read the mapped checkpoint.
   */
  void prepare(CpuMatrix w, boolean pack);

  /** Output columns per task must be a multiple of this, for a matrix with this many outputs. */
  int columnAlignment(int outFeatures);

  /**
   * For m &lt; rows and n in [n0, n1): v = sum_k x[m*in + k] * w[n, k] + bias[n] (bias may be null), then
   * out[m*outCols + n] = v, gelu_new(v) or out + v, per the epilogue. in = w.cols, outCols = w.rows.
   */
  void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue);

  /** Layer norm of rows [rowFrom, rowTo) of x (rows of n) into out, population variance, like torch. */
  void layerNorm(float[] x, int rowFrom, int rowTo, int n, float[] gamma, float[] beta, float eps, float[] out);

  /**
   * Attention scores of {@code nq} queries (1 to 4) against transposed keys:
   * out[outOff + r * outStride + i] = sum over d of q[qOffs[r] + d] * kt[ktOff + d * ktStride + i],
   * for i &lt; count, d = 0, 1, ... in order. Each score is its own chain, so it does not depend on
   * where its key sits in kt or which queries share the call. kt needs {@link #PAD} floats of slack.
   */
  void scores(float[] q, int[] qOffs, int nq, int headDim, float[] kt, int ktOff, int ktStride, int count,
      float[] out, int outOff, int outStride);

  /**
   * s[off + i] = exp(s[off + i] - max) for i &lt; n; returns their sum, in an order fixed by n. s needs
   * {@link #PAD} floats of room past off + n.
   */
  float softmaxNumerators(float[] s, int off, int n);

  /**
   * For queries r &lt; nq (1 to 4): acc[accOffs[r] + d] += sum over keys i &lt; count of
   * p[pOff + r * pStride + i] * v[vOff + i * vStride + d], d &lt; headDim, keys in order: one fused
   * multiply-add chain per element, whichever queries share the call.
   */
  void weightedSum(float[] p, int pOff, int pStride, int nq, int count, float[] v, int vOff, int vStride,
      int headDim, float[] acc, int[] accOffs);

  /** gelu_new(v) = 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))), GPT-Neo's activation. */
  static float geluNew(float v) {
    return (float) (0.5 * v * (1.0 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
  }
}
