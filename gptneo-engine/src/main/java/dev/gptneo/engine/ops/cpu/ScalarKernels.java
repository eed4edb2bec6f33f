package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;

/** The reference kernels: plain loops, one multiply-add at a time. */
final class ScalarKernels implements CpuKernels {
  private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public void prepare(CpuMatrix w, boolean pack) {
    // the reference reads the mapped weights as they are
  }

  @Override
  public int columnAlignment(int outFeatures) {
    return 1;
  }

  @Override
  public void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue) {
    int in = w.cols;
    int outCols = w.rows;
    float[] row = ROW.get();
    if (row.length < in) {
      row = new float[in];
      ROW.set(row);
    }
    for (int n = n0; n < n1; n++) {
      w.readRow(n, row, 0);
      float b = bias == null ? 0f : bias[n];
      for (int m = 0; m < rows; m++) {
        float acc = 0f;
        int xo = m * in;
        for (int k = 0; k < in; k++) {
          acc += x[xo + k] * row[k];
        }
        int o = m * outCols + n;
        out[o] = applyEpilogue(acc + b, out[o], epilogue);
      }
    }
  }

  static float applyEpilogue(float v, float old, Epilogue epilogue) {
    switch (epilogue) {
      case GELU_NEW:
        return CpuKernels.geluNew(v);
      case ADD:
        return old + v;
      default:
        return v;
    }
  }

  @Override
  public void layerNorm(float[] x, int rowFrom, int rowTo, int n, float[] gamma, float[] beta, float eps, float[] out) {
    for (int row = rowFrom; row < rowTo; row++) {
      int off = row * n;
      double sum = 0;
      for (int i = 0; i < n; i++) {
        sum += x[off + i];
      }
      float mean = (float) (sum / n);
      double sq = 0;
      for (int i = 0; i < n; i++) {
        float d = x[off + i] - mean;
        sq += d * d;
      }
      float rstd = (float) (1.0 / Math.sqrt(sq / n + eps));
      for (int i = 0; i < n; i++) {
        out[off + i] = (x[off + i] - mean) * rstd * gamma[i] + beta[i];
      }
    }
  }

  @Override
  public void scores(float[] q, int[] qOffs, int nq, int headDim, float[] kt, int ktOff, int ktStride, int count,
      float[] out, int outOff, int outStride) {
    for (int r = 0; r < nq; r++) {
      for (int i = 0; i < count; i++) {
        float acc = 0f;
        for (int d = 0; d < headDim; d++) {
          acc += q[qOffs[r] + d] * kt[ktOff + d * ktStride + i];
        }
        out[outOff + r * outStride + i] = acc;
      }
    }
  }

  @Override
  public float softmaxNumerators(float[] s, int off, int n) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, s[off + i]);
    }
    float sum = 0f;
    for (int i = 0; i < n; i++) {
      s[off + i] = (float) Math.exp(s[off + i] - max);
      sum += s[off + i];
    }
    return sum;
  }

  @Override
  public void weightedSum(float[] p, int pOff, int pStride, int nq, int count, float[] v, int vOff, int vStride,
      int headDim, float[] acc, int[] accOffs) {
    for (int r = 0; r < nq; r++) {
      for (int i = 0; i < count; i++) {
        float w = p[pOff + r * pStride + i];
        int row = vOff + i * vStride;
        for (int d = 0; d < headDim; d++) {
          acc[accOffs[r] + d] += w * v[row + d];
        }
      }
    }
  }
}
