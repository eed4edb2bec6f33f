package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels. Loaded only when the incubator module is present (see {@link VectorSupport}).
 * Each method is small so that C2 inlines it and keeps vectors in registers.
 */
final class VectorKernels implements CpuKernels {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

  @Override
  public String name() {
    return "vector(" + F.vectorBitSize() + "-bit)";
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
        int o = m * outCols + n;
        out[o] = ScalarKernels.applyEpilogue(dot(x, m * in, row, 0, in) + b, out[o], epilogue);
      }
    }
  }

  @Override
  public void layerNorm(float[] x, int xOff, int n, float[] gamma, float[] beta, float eps, float[] out, int outOff) {
    float mean = sum(x, xOff, n) / n;
    float var = sumSquaredDiff(x, xOff, n, mean) / n;
    float rstd = (float) (1.0 / Math.sqrt(var + eps));
    int i = 0;
    int upper = F.loopBound(n);
    FloatVector vMean = FloatVector.broadcast(F, mean);
    for (; i < upper; i += F.length()) {
      FloatVector v = FloatVector.fromArray(F, x, xOff + i).sub(vMean).mul(rstd);
      v.fma(FloatVector.fromArray(F, gamma, i), FloatVector.fromArray(F, beta, i)).intoArray(out, outOff + i);
    }
    for (; i < n; i++) {
      out[outOff + i] = (x[xOff + i] - mean) * rstd * gamma[i] + beta[i];
    }
  }

  private static float sum(float[] x, int off, int n) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    int upper = F.loopBound(n);
    for (; i < upper; i += F.length()) {
      acc = acc.add(FloatVector.fromArray(F, x, off + i));
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += x[off + i];
    }
    return s;
  }

  private static float sumSquaredDiff(float[] x, int off, int n, float mean) {
    FloatVector acc = FloatVector.zero(F);
    FloatVector vMean = FloatVector.broadcast(F, mean);
    int i = 0;
    int upper = F.loopBound(n);
    for (; i < upper; i += F.length()) {
      FloatVector d = FloatVector.fromArray(F, x, off + i).sub(vMean);
      acc = d.fma(d, acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      float d = x[off + i] - mean;
      s += d * d;
    }
    return s;
  }

  @Override
  public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    FloatVector acc = FloatVector.zero(F);
    int i = 0;
    int upper = F.loopBound(n);
    for (; i < upper; i += F.length()) {
      acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
    }
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += a[aOff + i] * b[bOff + i];
    }
    return s;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
    FloatVector va = FloatVector.broadcast(F, alpha);
    int i = 0;
    int upper = F.loopBound(n);
    for (; i < upper; i += F.length()) {
      FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
    }
    for (; i < n; i++) {
      y[yOff + i] += alpha * x[xOff + i];
    }
  }
}
