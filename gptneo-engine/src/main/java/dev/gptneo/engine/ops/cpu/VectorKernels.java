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
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = F.length();
  private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

  @Override
  public String name() {
    String pinned = VectorWidth.pinned() ? ", pinned by -D" + VectorWidth.PROPERTY : "";
    return "vector(" + F.vectorBitSize() + "-bit" + pinned + ")";
  }

  @Override
  public void prepare(CpuMatrix w, boolean pack) {
    if (pack) {
      w.packed = PackedPanels.pack(w, PanelGemm.NR);
    }
  }

  @Override
  public int columnAlignment(int outFeatures) {
    // whole groups of panels per task (decode streams a group at once), unless that would leave
    // too few tasks to keep every thread busy on a small matrix
    int group = DecodeGemm.GROUP * PanelGemm.NR;
    return outFeatures >= 8 * group ? group : 2 * PanelGemm.NR;
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
  public void layerNorm(float[] x, int rowFrom, int rowTo, int n, float[] gamma, float[] beta, float eps, float[] out) {
    float[] lanes = LANES.get();
    for (int row = rowFrom; row < rowTo; row++) {
      layerNormRow(x, row * n, n, gamma, beta, eps, out, lanes);
    }
  }

  private static void layerNormRow(float[] x, int off, int n, float[] gamma, float[] beta, float eps, float[] out,
      float[] lanes) {
    int upper = F.loopBound(n);
    FloatVector acc = FloatVector.zero(F);
    for (int i = 0; i < upper; i += L) {
      acc = acc.add(FloatVector.fromArray(F, x, off + i));
    }
    float sum = VectorMath.sum(acc, lanes);
    for (int i = upper; i < n; i++) {
      sum += x[off + i];
    }
    float mean = sum / n;
    FloatVector vMean = FloatVector.broadcast(F, mean);
    acc = FloatVector.zero(F);
    for (int i = 0; i < upper; i += L) {
      FloatVector d = FloatVector.fromArray(F, x, off + i).sub(vMean);
      acc = d.fma(d, acc);
    }
    float sq = VectorMath.sum(acc, lanes);
    for (int i = upper; i < n; i++) {
      float d = x[off + i] - mean;
      sq += d * d;
    }
    float rstd = (float) (1.0 / Math.sqrt(sq / n + eps));
    int i = 0;
    for (; i < upper; i += L) {
      FloatVector v = FloatVector.fromArray(F, x, off + i).sub(vMean).mul(rstd);
      v.fma(FloatVector.fromArray(F, gamma, i), FloatVector.fromArray(F, beta, i)).intoArray(out, off + i);
    }
    for (; i < n; i++) {
      out[off + i] = (x[off + i] - mean) * rstd * gamma[i] + beta[i];
    }
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
