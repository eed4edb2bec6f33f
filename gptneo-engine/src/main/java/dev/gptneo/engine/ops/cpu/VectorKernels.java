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
  private static final int L = F.length();
  private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

  @Override
  public String name() {
    return "vector(" + F.vectorBitSize() + "-bit)";
  }

  @Override
  public void prepare(CpuMatrix w, boolean pack) {
    if (pack) {
      w.packed = PackedPanels.pack(w, PanelGemm.NR);
    }
  }

  @Override
  public int columnAlignment() {
    return DecodeGemm.GROUP * PanelGemm.NR; // whole groups of panels per task for decode
  }

  @Override
  public void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue) {
    if (w.packed != null) {
      PanelGemm.linear(x, rows, w, n0, n1, bias, out, epilogue);
    } else {
      MappedGemm.linear(x, rows, w, n0, n1, bias, out, epilogue);
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
    float s = VectorMath.sum(acc, LANES.get());
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
    float s = VectorMath.sum(acc, LANES.get());
    for (; i < n; i++) {
      float d = x[off + i] - mean;
      s += d * d;
    }
    return s;
  }

  /**
   * Masked vector operations are slow on JDK 17, so the tail is computed as a full vector into a
   * scratch tile: callers pad kt by {@link CpuKernels#PAD} floats so the over-read stays inside it.
   */
  @Override
  public void scores(float[] q, int[] qOffs, int nq, int headDim, float[] kt, int ktOff, int ktStride, int count,
      float[] out, int outOff, int outStride) {
    AttentionKernels.scores(q, qOffs, nq, headDim, kt, ktOff, ktStride, count, out, outOff, outStride);
  }

  @Override
  public float softmaxNumerators(float[] s, int off, int n) {
    int upper = n - n % L;
    FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
    for (int i = 0; i < upper; i += L) {
      vmax = vmax.max(FloatVector.fromArray(F, s, off + i));
    }
    float max = vmax.reduceLanes(VectorOperators.MAX);
    for (int i = upper; i < n; i++) {
      max = Math.max(max, s[off + i]);
    }
    VectorMath.expInPlace(s, off, n, max); // the last vector spills into the padding
    // lanes group keys by their index from the query's first key, so the sum is fixed by n
    FloatVector vsum = FloatVector.zero(F);
    for (int i = 0; i < upper; i += L) {
      vsum = vsum.add(FloatVector.fromArray(F, s, off + i));
    }
    float sum = VectorMath.sum(vsum, LANES.get());
    for (int i = upper; i < n; i++) {
      sum += s[off + i];
    }
    return sum;
  }

  @Override
  public void weightedSum(float[] p, int pOff, int pStride, int nq, int count, float[] v, int vOff, int vStride,
      int headDim, float[] acc, int[] accOffs) {
    AttentionKernels.weightedSum(p, pOff, pStride, nq, count, v, vOff, vStride, headDim, acc, accOffs);
  }
}
