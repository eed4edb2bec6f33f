package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;

/**
 * The inner loops of the CPU backend. {@link ScalarKernels} is the plain reference; fast
 * implementations must give the same results within float rounding, and each output element must
 * not depend on which other rows share the call (so a sequence's result is the same in any batch).
 */
interface CpuKernels {
  String name();

  /** Called once per weight at load; may attach a packed layout to {@code w.packed}. */
  void prepare(CpuMatrix w);

  /**
   * For m &lt; rows and n in [n0, n1): v = sum_k x[m*in + k] * w[n, k] + bias[n] (bias may be null), then
   * out[m*outCols + n] = v, gelu_new(v) or out + v, per the epilogue. in = w.cols, outCols = w.rows.
   */
  void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue);

  /** Layer norm of x[xOff..xOff+n) into out[outOff..), population variance, like torch. */
  void layerNorm(float[] x, int xOff, int n, float[] gamma, float[] beta, float eps, float[] out, int outOff);

  /** sum_i a[aOff+i] * b[bOff+i], summed in a fixed order for a given n. */
  float dot(float[] a, int aOff, float[] b, int bOff, int n);

  /** y[yOff+i] += alpha * x[xOff+i]. */
  void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

  /** gelu_new(v) = 0.5 v (1 + tanh(sqrt(2/pi) (v + 0.044715 v^3))), GPT-Neo's activation. */
  static float geluNew(float v) {
    return (float) (0.5 * v * (1.0 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
  }
}
