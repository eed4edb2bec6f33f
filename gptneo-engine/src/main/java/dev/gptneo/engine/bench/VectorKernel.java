package dev.gptneo.engine.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The calibration loops on the Vector API, at the preferred width (512 bits with AVX-512). Only
 * loaded when the incubator module is present. Small methods, so C2 keeps the vectors in registers.
 */
final class VectorKernel implements Calibration.Kernels {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  /** Independent FMA chains: enough to cover FMA latency x FMA ports (4 cycles x 2 on Zen 4/5). */
  static final int CHAINS = 12;

  @Override
  public float fma(int iters, float seed) {
    FloatVector m = FloatVector.broadcast(F, 0.999999f);
    FloatVector c = FloatVector.broadcast(F, 1e-7f);
    FloatVector a0 = FloatVector.broadcast(F, seed);
    FloatVector a1 = a0.add(1f);
    FloatVector a2 = a0.add(2f);
    FloatVector a3 = a0.add(3f);
    FloatVector a4 = a0.add(4f);
    FloatVector a5 = a0.add(5f);
    FloatVector a6 = a0.add(6f);
    FloatVector a7 = a0.add(7f);
    FloatVector a8 = a0.add(8f);
    FloatVector a9 = a0.add(9f);
    FloatVector a10 = a0.add(10f);
    FloatVector a11 = a0.add(11f);
    for (int i = 0; i < iters; i++) {
      a0 = a0.fma(m, c);
      a1 = a1.fma(m, c);
      a2 = a2.fma(m, c);
      a3 = a3.fma(m, c);
      a4 = a4.fma(m, c);
      a5 = a5.fma(m, c);
      a6 = a6.fma(m, c);
      a7 = a7.fma(m, c);
      a8 = a8.fma(m, c);
      a9 = a9.fma(m, c);
      a10 = a10.fma(m, c);
      a11 = a11.fma(m, c);
    }
    return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
        .reduceLanes(VectorOperators.ADD);
  }

  @Override
  public double fmaFlops(int iters) {
    return 2.0 * F.length() * CHAINS * (double) iters;
  }

  @Override
  public float sum(float[] a, int from, int to) {
    FloatVector s0 = FloatVector.zero(F);
    FloatVector s1 = FloatVector.zero(F);
    FloatVector s2 = FloatVector.zero(F);
    FloatVector s3 = FloatVector.zero(F);
    int len = F.length();
    int i = from;
    int bound = to - 4 * len;
    for (; i <= bound; i += 4 * len) {
      s0 = s0.add(FloatVector.fromArray(F, a, i));
      s1 = s1.add(FloatVector.fromArray(F, a, i + len));
      s2 = s2.add(FloatVector.fromArray(F, a, i + 2 * len));
      s3 = s3.add(FloatVector.fromArray(F, a, i + 3 * len));
    }
    float s = s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD);
    for (; i < to; i++) {
      s += a[i];
    }
    return s;
  }

  @Override
  public int vectorBits() {
    return F.vectorBitSize();
  }
}
