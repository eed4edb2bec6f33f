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
  public void prepare(CpuMatrix w) {
    // reads the mapped weights as they are
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
  public void layerNorm(float[] x, int xOff, int n, float[] gamma, float[] beta, float eps, float[] out, int outOff) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += x[xOff + i];
    }
    float mean = (float) (sum / n);
    double sq = 0;
    for (int i = 0; i < n; i++) {
      float d = x[xOff + i] - mean;
      sq += d * d;
    }
    float rstd = (float) (1.0 / Math.sqrt(sq / n + eps));
    for (int i = 0; i < n; i++) {
      out[outOff + i] = (x[xOff + i] - mean) * rstd * gamma[i] + beta[i];
    }
  }

  @Override
  public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    float acc = 0f;
    for (int i = 0; i < n; i++) {
      acc += a[aOff + i] * b[bOff + i];
    }
    return acc;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
    for (int i = 0; i < n; i++) {
      y[yOff + i] += alpha * x[xOff + i];
    }
  }
}
