package dev.gptneo.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CalibrationTest {
  @Test
  void measuresPositiveNumbers() {
    Calibration c = Calibration.measure(1, 0.2, 16L << 20);
    assertEquals(1, c.threads);
    assertTrue(c.bandwidth > 0);
    if (Calibration.vectorApiPresent()) {
      assertTrue(c.peakFlops > 0);
      assertTrue(c.vectorBits >= 128);
    } else {
      assertTrue(Double.isNaN(c.peakFlops));
    }
  }

  @Test
  void kernelsComputeTheSameSumAsAPlainLoopInChunks() {
    float[] a = new float[2 * Calibration.SUM_CHUNK + 1003];
    for (int i = 0; i < a.length; i++) {
      a[i] = i % 7;
    }
    float expected = 0;
    for (float v : a) {
      expected += v;
    }
    assertEquals(expected, Calibration.sumAll(new Calibration.ScalarKernel(), a), 1e-6 * expected);
    assertEquals(3 + 4 + 5, new Calibration.ScalarKernel().sum(a, 3, 6), 0f); // a range only
    if (Calibration.vectorApiPresent()) {
      assertEquals(expected, Calibration.sumAll(new VectorKernel(), a), 1e-6 * expected);
      assertEquals(3 + 4 + 5, new VectorKernel().sum(a, 3, 6), 0f);
    }
  }

  @Test
  void bufferIsLargerThanTheCaches() {
    long b = Calibration.defaultBufferBytes();
    assertTrue(b >= 256L << 20 && b <= 1L << 30);
  }
}
