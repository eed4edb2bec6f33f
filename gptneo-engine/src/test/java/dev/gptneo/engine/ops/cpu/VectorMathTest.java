package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vector exp, gelu_new and lane sum equal their scalar twins bit for bit (so a result cannot
 * depend on whether the JIT has compiled the kernel yet), and are accurate.
 */
class VectorMathTest {
  static final int L = PanelGemm.L;

  @BeforeAll
  static void vectorApi() {
    assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
  }

  static float[] inputs(Random rnd, int n, double scale) {
    float[] x = new float[n + L];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rnd.nextGaussian() * scale);
    }
    x[0] = 0f;
    x[1] = -0f;
    x[2] = -87.5f;
    x[3] = -1000f;
    x[4] = 88f;
    x[5] = -1e-30f;
    return x;
  }

  @Test
  void expMatchesItsTwinAndMath() {
    Random rnd = new Random(1);
    for (double scale : new double[] {0.1, 3, 30, 80}) {
      int n = 64 * L - 3;
      float[] x = inputs(rnd, n, scale);
      float[] out = x.clone();
      VectorMath.expInPlace(out, 0, n, 0.5f);
      for (int i = 0; i < n; i++) {
        assertEquals(Float.floatToRawIntBits(VectorMath.expTwin(x[i], 0.5f)), Float.floatToRawIntBits(out[i]),
            "exp(" + x[i] + " - 0.5)");
        double arg = x[i] - 0.5f;
        double exact = arg > VectorMath.EXP_MAX ? Double.NaN : Math.exp(arg);
        if (!Double.isNaN(exact)) {
          assertTrue(Math.abs(out[i] - exact) <= 2e-7 * exact + 1e-37, "exp(" + arg + ") = " + out[i] + " vs " + exact);
        }
      }
    }
  }

  @Test
  void geluMatchesItsTwinAndTheTanhFormula() {
    Random rnd = new Random(2);
    for (double scale : new double[] {1e-4, 0.3, 3, 30}) {
      int n = 64 * L;
      float[] x = inputs(rnd, n, scale);
      x[3] = -20f;
      float[] out = x.clone();
      VectorMath.geluInPlace(out, 0, n, new float[n + L]);
      for (int i = 0; i < n; i++) {
        assertEquals(Float.floatToRawIntBits(VectorMath.geluTwin(x[i])), Float.floatToRawIntBits(out[i]),
            "gelu(" + x[i] + ")");
        double v = x[i];
        double exact = 0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
        assertEquals(exact, out[i], 2e-7 * (1 + Math.abs(v)), "gelu(" + v + ")");
      }
    }
  }

  @Test
  void laneSumIsAFixedTree() {
    Random rnd = new Random(3);
    float[] scratch = new float[L];
    for (int t = 0; t < 1000; t++) {
      float[] lanes = new float[L];
      for (int i = 0; i < L; i++) {
        lanes[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(6)));
      }
      float got = VectorMath.sum(FloatVector.fromArray(PanelGemm.F, lanes, 0), scratch);
      float[] copy = lanes.clone();
      // the same tree, written out
      for (int half = L / 2; half >= 1; half /= 2) {
        for (int i = 0; i < half; i++) {
          copy[i] = copy[i] + copy[i + half];
        }
      }
      assertEquals(Float.floatToRawIntBits(copy[0]), Float.floatToRawIntBits(got));
    }
  }
}
