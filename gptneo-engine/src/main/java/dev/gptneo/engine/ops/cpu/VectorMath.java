package dev.gptneo.engine.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, gelu_new and lane sums built only from exactly rounded operations (add, mul, fma, division,
 * integer and bit moves). The Vector API's own EXP/TANH (SVML once compiled, Math per lane before)
 * and reduceLanes (a tree once compiled, lane order before) give different bits before and after
 * the JIT compiles a method, which would make a row's result depend on when it ran. These do not:
 * each has a scalar twin ({@code ...Twin}) that tests compare bit for bit. The loops work on arrays
 * so that no vector crosses a method boundary (C2 would box it).
 */
final class VectorMath {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  // Bit casts name their species as a constant (reinterpretShape(I, 0), not reinterpretAsInts()):
  // the latter derives the species at run time, and where C2 has no inlining budget left for that
  // (gelu inside the GEMM's store), the cast is not intrinsified and every vector is boxed.
  private static final VectorSpecies<Integer> I = PanelGemm.I;
  private static final int L = F.length();

  static final float LOG2E = 1.44269504088896341f;
  static final float LN2_HI = 0.693359375f;          // ln 2 in few bits, so n * LN2_HI is exact
  static final float LN2_LO = -2.12194440e-4f;       // ln 2 - LN2_HI
  static final float ROUND = 12582912f;              // 1.5 * 2^23: adding it rounds to an integer
  static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
  static final float EXP_MIN = -104f;                // below: 0; above EXP_MAX: not supported
  static final float EXP_MAX = 88f;
  // Taylor coefficients of e^r for |r| <= ln2 / 2: relative error below 1e-7
  static final float C2 = 0.5f;
  static final float C3 = 1.6666667e-1f;
  static final float C4 = 4.1666668e-2f;
  static final float C5 = 8.3333338e-3f;
  static final float C6 = 1.3888889e-3f;
  static final float C7 = 1.9841270e-4f;
  static final float GELU_C = 0.7978845608028654f;   // sqrt(2 / pi)
  static final float GELU_A = 0.044715f;

  private VectorMath() {}

  /**
   * a[off + i] = exp(a[off + i] - shift) for i &lt; n, for arguments up to EXP_MAX (0 below EXP_MIN).
   * Whole vectors: a needs L floats of room past off + n.
   */
  static void expInPlace(float[] a, int off, int n, float shift) {
    for (int i = 0; i < n; i += L) {
      FloatVector x = FloatVector.fromArray(F, a, off + i).sub(shift).max(EXP_MIN);
      FloatVector t = x.mul(LOG2E).add(ROUND);          // round(x log2 e), in the low mantissa bits
      FloatVector negN = t.sub(ROUND).neg();
      FloatVector r = negN.fma(FloatVector.broadcast(F, LN2_HI), x);
      r = negN.fma(FloatVector.broadcast(F, LN2_LO), r); // x - n ln 2
      FloatVector p = r.fma(FloatVector.broadcast(F, C7), FloatVector.broadcast(F, C6));
      p = p.fma(r, FloatVector.broadcast(F, C5));
      p = p.fma(r, FloatVector.broadcast(F, C4));
      p = p.fma(r, FloatVector.broadcast(F, C3));
      p = p.fma(r, FloatVector.broadcast(F, C2));
      p = p.fma(r, FloatVector.broadcast(F, 1f));
      p = p.fma(r, FloatVector.broadcast(F, 1f));
      // 2^n from its exponent bits; n below -126 gives 2^n = 0 exactly
      IntVector exponent = ((IntVector) t.reinterpretShape(I, 0)).sub(ROUND_BITS).max(-127);
      FloatVector scale = (FloatVector) exponent.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretShape(F, 0);
      p.mul(scale).intoArray(a, off + i);
    }
  }

  /** The scalar twin of one lane of {@link #expInPlace}. */
  static float expTwin(float v, float shift) {
    float x = Math.max(v - shift, EXP_MIN);
    float t = x * LOG2E + ROUND;
    float negN = -(t - ROUND);
    float r = Math.fma(negN, LN2_HI, x);
    r = Math.fma(negN, LN2_LO, r);
    float p = Math.fma(r, C7, C6);
    p = Math.fma(p, r, C5);
    p = Math.fma(p, r, C4);
    p = Math.fma(p, r, C3);
    p = Math.fma(p, r, C2);
    p = Math.fma(p, r, 1f);
    p = Math.fma(p, r, 1f);
    int n = Math.max(Float.floatToRawIntBits(t) - ROUND_BITS, -127);
    return p * Float.intBitsToFloat((n + 127) << 23);
  }

  /**
   * a[off + i] = gelu_new(a[off + i]) = 0.5 v (1 + tanh(y)), y = sqrt(2/pi) (v + 0.044715 v^3), with
   * tanh(y) = sign(y) (1 - 2 / (e^(2|y|) + 1)) and |y| capped at 9 (tanh is 1 in float there).
   * scratch: at least n + L floats. Whole vectors: a needs L floats of room past off + n.
   */
  static void geluInPlace(float[] a, int off, int n, float[] scratch) {
    for (int i = 0; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(F, a, off + i);
      FloatVector y = v.mul(v).mul(v).mul(GELU_A).add(v).mul(GELU_C);
      FloatVector abs = y.abs().min(9f);
      abs.add(abs).intoArray(scratch, i);
    }
    expInPlace(scratch, 0, n, 0f);
    for (int i = 0; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(F, a, off + i);
      FloatVector y = v.mul(v).mul(v).mul(GELU_A).add(v).mul(GELU_C);
      FloatVector e = FloatVector.fromArray(F, scratch, i);
      FloatVector t = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(e.add(1f)));
      IntVector sign = ((IntVector) y.reinterpretShape(I, 0)).and(0x80000000);
      FloatVector tanh = (FloatVector) ((IntVector) t.reinterpretShape(I, 0)).or(sign).reinterpretShape(F, 0);
      tanh.add(1f).mul(v).mul(0.5f).intoArray(a, off + i);
    }
  }

  /** The scalar twin of one lane of {@link #geluInPlace}. */
  static float geluTwin(float v) {
    float y = (v * v * v * GELU_A + v) * GELU_C;
    float abs = Math.min(Math.abs(y), 9f);
    float e = expTwin(abs + abs, 0f);
    float t = 1f - 2f / (e + 1f);
    float tanh = Float.intBitsToFloat(Float.floatToRawIntBits(t) | (Float.floatToRawIntBits(y) & 0x80000000));
    return (tanh + 1f) * v * 0.5f;
  }

  /**
   * The sum of a vector's lanes in a fixed tree (lane i with lane i + L/2, then i + L/4, ...),
   * through {@code lanes} (L floats of scratch).
   */
  static float sum(FloatVector v, float[] lanes) {
    v.intoArray(lanes, 0);
    return sumTree(lanes);
  }

  /** The tree of {@link #sum} over lanes[0..L); overwrites lanes. */
  static float sumTree(float[] lanes) {
    for (int half = L / 2; half >= 1; half /= 2) {
      for (int i = 0; i < half; i++) {
        lanes[i] += lanes[i + half];
      }
    }
    return lanes[0];
  }
}
