package dev.gptneo.engine.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, tanh and lane sums built only from exactly rounded operations (add, mul, fma, division,
 * bit moves). The Vector API's own TANH/EXP (SVML once compiled, Math per lane before) and
 * reduceLanes (a tree once compiled, lane order before) give different bits before and after the
 * JIT compiles a method, which would make a row's result depend on when it ran. These do not:
 * {@link #expTwin} and {@link #tanhTwin} are their scalar twins, and tests check them bit for bit.
 */
final class VectorMath {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = F.length();
  private static final VectorShuffle<Float>[] BUTTERFLY = butterfly();

  static final float LOG2E = 1.44269504088896341f;
  static final float LN2_HI = 0.693359375f;          // ln 2 in few bits, so n * LN2_HI is exact
  static final float LN2_LO = -2.12194440e-4f;       // ln 2 - LN2_HI
  static final float ROUND = 12582912f;              // 1.5 * 2^23: adding it rounds to an integer
  static final float EXP_MIN = -87.0f;               // below: 0 (the result would be subnormal)
  static final float EXP_MAX = 88.0f;
  // Taylor coefficients of e^r, |r| <= ln2 / 2: relative error below 1e-7
  static final float C2 = 0.5f;
  static final float C3 = 1.6666667e-1f;
  static final float C4 = 4.1666668e-2f;
  static final float C5 = 8.3333338e-3f;
  static final float C6 = 1.3888889e-3f;
  static final float C7 = 1.9841270e-4f;

  private VectorMath() {}

  @SuppressWarnings("unchecked")
  private static VectorShuffle<Float>[] butterfly() {
    int steps = Integer.numberOfTrailingZeros(L);
    VectorShuffle<Float>[] s = new VectorShuffle[steps];
    for (int k = 0; k < steps; k++) {
      int half = L >> (k + 1);
      s[k] = VectorShuffle.fromOp(F, i -> i ^ half);
    }
    return s;
  }

  /** The sum of the lanes, added in a fixed tree (lane i with lane i ^ L/2, then L/4, ...). */
  static float sum(FloatVector v) {
    for (VectorShuffle<Float> s : BUTTERFLY) {
      v = v.add(v.rearrange(s));
    }
    return v.lane(0);
  }

  /** The same tree over an array of L floats. */
  static float sumTwin(float[] lanes) {
    float[] v = lanes.clone();
    for (int half = L / 2; half >= 1; half /= 2) {
      float[] next = new float[L];
      for (int i = 0; i < L; i++) {
        next[i] = v[i] + v[i ^ half];
      }
      v = next;
    }
    return v[0];
  }

  /** e^x; 0 below EXP_MIN (and for -inf), clamped at EXP_MAX. */
  static FloatVector exp(FloatVector x) {
    FloatVector xc = x.max(EXP_MIN).min(EXP_MAX);
    FloatVector t = xc.mul(LOG2E).add(ROUND);             // round(x log2 e) + ROUND
    FloatVector n = t.sub(ROUND);
    FloatVector negN = n.neg();
    FloatVector r = negN.fma(FloatVector.broadcast(F, LN2_HI), xc); // x - n ln2 in two steps
    r = negN.fma(FloatVector.broadcast(F, LN2_LO), r);
    FloatVector p = r.fma(FloatVector.broadcast(F, C7), FloatVector.broadcast(F, C6));
    p = p.fma(r, FloatVector.broadcast(F, C5));
    p = p.fma(r, FloatVector.broadcast(F, C4));
    p = p.fma(r, FloatVector.broadcast(F, C3));
    p = p.fma(r, FloatVector.broadcast(F, C2));
    p = p.fma(r, FloatVector.broadcast(F, 1f));
    p = p.fma(r, FloatVector.broadcast(F, 1f));           // e^r
    IntVector bits = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND)).add(127)
        .lanewise(VectorOperators.LSHL, 23);              // 2^n
    FloatVector result = p.mul(bits.reinterpretAsFloats());
    return result.blend(0f, x.lt(EXP_MIN));
  }

  /** The scalar twin of {@link #exp}: the same operations in the same order. */
  static float expTwin(float x) {
    float xc = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
    float t = xc * LOG2E + ROUND;
    float n = t - ROUND;
    float r = Math.fma(-n, LN2_HI, xc);
    r = Math.fma(-n, LN2_LO, r);
    float p = Math.fma(r, C7, C6);
    p = Math.fma(p, r, C5);
    p = Math.fma(p, r, C4);
    p = Math.fma(p, r, C3);
    p = Math.fma(p, r, C2);
    p = Math.fma(p, r, 1f);
    p = Math.fma(p, r, 1f);
    int bits = (Float.floatToRawIntBits(t) - Float.floatToRawIntBits(ROUND) + 127) << 23;
    float result = p * Float.intBitsToFloat(bits);
    return x < EXP_MIN ? 0f : result;
  }

  /** tanh(y) = sign(y) (1 - 2 / (e^(2|y|) + 1)); |y| is capped at 9, where tanh is 1 in float. */
  static FloatVector tanh(FloatVector y) {
    FloatVector a = y.abs().min(9f);
    FloatVector e = exp(a.add(a));
    FloatVector t = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(e.add(1f)));
    return t.reinterpretAsInts().or(y.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
  }

  static float tanhTwin(float y) {
    float a = Math.min(Math.abs(y), 9f);
    float e = expTwin(a + a);
    float t = 1f - 2f / (e + 1f);
    return Float.intBitsToFloat(Float.floatToRawIntBits(t) | (Float.floatToRawIntBits(y) & 0x80000000));
  }
}
