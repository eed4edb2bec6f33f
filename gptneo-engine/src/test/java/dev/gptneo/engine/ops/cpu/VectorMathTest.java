package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vector exp, tanh and lane sum equal their scalar twins bit for bit (so a result cannot
 * depend on whether the JIT has compiled the kernel yet), and are accurate.
 */
class VectorMathTest {
  @BeforeAll
  static void vectorApi() {
    assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
  }

  static float[] inputs(Random rnd, int n, double scale) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rnd.nextGaussian() * scale);
    }
    x[0] = 0f;
    x[1] = -0f;
    x[2] = Float.NEGATIVE_INFINITY;
    x[3] = -87.5f;
    x[4] = 88f;
    x[5] = -1e-30f;
    return x;
  }

  @Test
  void expMatchesItsTwinAndMath() {
    int l = PanelGemm.L;
    Random rnd = new Random(1);
    for (double scale : new double[] {0.1, 3, 30, 80}) {
      float[] x = inputs(rnd, 64 * l, scale);
      float[] out = new float[x.length];
      for (int i = 0; i < x.length; i += l) {
        VectorMath.exp(FloatVector.fromArray(PanelGemm.F, x, i)).intoArray(out, i);
      }
      for (int i = 0; i < x.length; i++) {
        assertEquals(Float.floatToRawIntBits(VectorMath.expTwin(x[i])), Float.floatToRawIntBits(out[i]), "exp(" + x[i] + ")");
        double exact = x[i] < VectorMath.EXP_MIN ? 0 : Math.exp(Math.min(x[i], VectorMath.EXP_MAX));
        assertTrue(Math.abs(out[i] - exact) <= 2e-7 * exact + 1e-37, "exp(" + x[i] + ") = " + out[i] + " vs " + exact);
      }
    }
  }

  @Test
  void tanhMatchesItsTwinAndMath() {
    int l = PanelGemm.L;
    Random rnd = new Random(2);
    for (double scale : new double[] {1e-4, 0.3, 3, 30}) {
      float[] x = inputs(rnd, 64 * l, scale);
      x[2] = 0.5f;
      float[] out = new float[x.length];
      for (int i = 0; i < x.length; i += l) {
        VectorMath.tanh(FloatVector.fromArray(PanelGemm.F, x, i)).intoArray(out, i);
      }
      for (int i = 0; i < x.length; i++) {
        assertEquals(Float.floatToRawIntBits(VectorMath.tanhTwin(x[i])), Float.floatToRawIntBits(out[i]));
        assertEquals(Math.tanh(x[i]), out[i], 2e-7, "tanh(" + x[i] + ")");
      }
    }
  }

  @Test
  void laneSumIsAFixedTree() {
    int l = PanelGemm.L;
    Random rnd = new Random(3);
    for (int t = 0; t < 1000; t++) {
      float[] lanes = inputs(rnd, l, 1e3).clone();
      lanes[2] = (float) rnd.nextGaussian();
      float got = VectorMath.sum(FloatVector.fromArray(PanelGemm.F, lanes, 0));
      assertEquals(Float.floatToRawIntBits(VectorMath.sumTwin(lanes)), Float.floatToRawIntBits(got));
    }
  }
}
