package dev.gptneo.engine.ops.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.Half;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every Vector API kernel against the scalar reference, on random inputs with fixed seeds. */
class FastKernelsTest {
  @TempDir
  static Path dir;

  static final ScalarKernels REF = new ScalarKernels();
  static CpuKernels fast;

  @BeforeAll
  static void vectorApi() {
    assumeTrue(VectorSupport.available(), "Vector API not in this JVM");
    fast = VectorSupport.kernels();
  }

  static final int[] ROWS = {1, 2, 4, 5, 6, 7, 13, 32, 70};
  static final int[][] SHAPES = {{1, 1}, {31, 17}, {32, 16}, {33, 64}, {100, 100}, {64, 200}, {200, 64}, {48, 96}};

  /** |a - b| <= tol * (1 + |b|): float sums in different orders over k terms. */
  static void assertClose(float[] expected, float[] got, double tol, String what) {
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(expected[i] - got[i]);
      assertTrue(err <= tol * (1 + Math.abs(expected[i])), what + " at " + i + ": " + expected[i] + " vs " + got[i]);
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
  void packedAndMappedLinearMatchTheReference(DType dtype) {
    Random rnd = new Random(42);
    for (int[] shape : SHAPES) {
      int n = shape[0];
      int k = shape[1];
      CpuMatrix mapped = new CpuMatrix(TestMatrices.random(dir, rnd, dtype, n, k, 0.5f));
      CpuMatrix packed = new CpuMatrix(TestMatrices.random(dir, new Random(rnd.nextLong()), dtype, n, k, 0.5f));
      fast.prepare(packed, true);
      CpuMatrix packedRef = new CpuMatrix(packed.parts.length == 1 ? viewOf(packed) : null);
      for (int rows : ROWS) {
        for (Epilogue e : Epilogue.values()) {
          float[] x = TestMatrices.randomArray(rnd, rows * k, 1f);
          float[] bias = rnd.nextBoolean() ? TestMatrices.randomArray(rnd, n, 0.1f) : null;
          float[] init = TestMatrices.randomArray(rnd, rows * n, 1f);
          for (CpuMatrix[] pair : new CpuMatrix[][] {{mapped, mapped}, {packed, packedRef}}) {
            float[] expected = init.clone();
            REF.linear(x, rows, pair[1], 0, n, bias, expected, e);
            float[] got = init.clone();
            fast.linear(x, rows, pair[0], 0, n, bias, got, e);
            assertClose(expected, got, 2e-5 * Math.sqrt(k), dtype + " " + n + "x" + k + " rows=" + rows + " " + e
                + (pair[0].packed != null ? " packed" : " mapped"));
          }
        }
      }
    }
  }

  private static dev.gptneo.engine.weights.TensorView viewOf(CpuMatrix m) {
    float[] values = new float[m.rows * m.cols];
    for (int r = 0; r < m.rows; r++) {
      m.readRow(r, values, r * m.cols);
    }
    return TestMatrices.tensor(dir, DType.F32, m.rows, m.cols, values);
  }

  /** A row gives bit-identical results whatever other rows share the call (and whichever kernel). */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
  void rowsAreIndependentOfTheirBatch(DType dtype) {
    Random rnd = new Random(7);
    for (int[] nk : new int[][] {{96, 70}, {2, 128}, {33, 128}}) {
      rowsAreIndependent(dtype, rnd, nk[0], nk[1]);
    }
  }

  /** 17 rows: 4 over two panels at once, one block of 8, 4 more over two panels, then a single row. */
  private static final int ROWS_ALL = 17;

  private void rowsAreIndependent(DType dtype, Random rnd, int n, int k) {
    CpuMatrix packed = new CpuMatrix(TestMatrices.random(dir, rnd, dtype, n, k, 0.5f));
    fast.prepare(packed, true);
    CpuMatrix mapped = new CpuMatrix(TestMatrices.random(dir, new Random(3), dtype, n, k, 0.5f));
    float[] x = TestMatrices.randomArray(rnd, ROWS_ALL * k, 1f);
    for (CpuMatrix w : new CpuMatrix[] {packed, mapped}) {
      float[] all = new float[ROWS_ALL * n];
      fast.linear(x, ROWS_ALL, w, 0, n, null, all, Epilogue.GELU_NEW);
      for (int row = 0; row < ROWS_ALL; row++) {
        float[] alone = new float[n];
        fast.linear(Arrays.copyOfRange(x, row * k, (row + 1) * k), 1, w, 0, n, null, alone, Epilogue.GELU_NEW);
        assertArrayEquals(Arrays.copyOfRange(all, row * n, (row + 1) * n), alone, dtype + " " + n + "x" + k
            + (w.packed != null ? " packed" : " mapped") + " row " + row);
      }
    }
  }

  /**
   * The mapped kernels (4 x 4 and 1 x 16 tiles, lanes summed 16 at a time, single elements at the edges)
   * give every element exactly one chain: lane-wise fused multiply-adds, the tree of VectorMath.sum, the
   * k % L tail in order, then the bias.
   */
  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
  void mappedLinearIsOneChainPerElement(DType dtype) {
    Random rnd = new Random(13);
    int lanes = PanelGemm.L;
    // the last: three stacked parts of 20 rows, so some 16-row tiles span two parts
    for (int[] nk : new int[][] {{48, 4 * lanes}, {37, 3 * lanes + 5}, {64, 40 * lanes}, {16, 7}, {60, 2 * lanes}}) {
      int n = nk[0];
      int k = nk[1];
      CpuMatrix w = n == 60
          ? new CpuMatrix(TestMatrices.random(dir, rnd, dtype, 20, k, 0.5f),
              TestMatrices.random(dir, rnd, dtype, 20, k, 0.5f), TestMatrices.random(dir, rnd, dtype, 20, k, 0.5f))
          : new CpuMatrix(TestMatrices.random(dir, rnd, dtype, n, k, 0.5f));
      float[] weights = new float[n * k];
      for (int r = 0; r < n; r++) {
        w.readRow(r, weights, r * k);
      }
      for (int rows : new int[] {1, 3, 4, 9, 200}) {
        float[] x = TestMatrices.randomArray(rnd, rows * k, 1f);
        float[] bias = TestMatrices.randomArray(rnd, n, 0.1f);
        float[] got = new float[rows * n];
        fast.linear(x, rows, w, 0, n, bias, got, Epilogue.STORE);
        float[] chain = new float[lanes];
        for (int m = 0; m < rows; m++) {
          for (int j = 0; j < n; j++) {
            Arrays.fill(chain, 0f);
            int upper = k - k % lanes;
            for (int i = 0; i < upper; i++) {
              chain[i % lanes] = Math.fma(x[m * k + i], weights[j * k + i], chain[i % lanes]);
            }
            float acc = VectorMath.sumTree(chain);
            for (int i = upper; i < k; i++) {
              acc += x[m * k + i] * weights[j * k + i];
            }
            assertEquals(Float.floatToRawIntBits(acc + bias[j]), Float.floatToRawIntBits(got[m * n + j]),
                dtype + " " + n + "x" + k + " rows=" + rows + " at (" + m + ", " + j + ")");
          }
        }
      }
    }
  }

  /** LaneSums gives each accumulator the bits of VectorMath.sum, whichever accumulators share its pass. */
  @Test
  void laneSumsMatchTheTreeOfEachVector() {
    Random rnd = new Random(17);
    int lanes = PanelGemm.L;
    for (int count : new int[] {16, 32}) {
      if (count % lanes != 0) {
        continue;
      }
      float[] acc = new float[count * lanes];
      for (int i = 0; i < acc.length; i++) {
        acc[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
      }
      float[] expected = new float[count];
      for (int a = 0; a < count; a++) {
        expected[a] = VectorMath.sumTree(Arrays.copyOfRange(acc, a * lanes, (a + 1) * lanes));
      }
      float[] sums = new float[count];
      LaneSums.sum(acc, count, sums);
      assertArrayEquals(expected, sums, "lane sums of " + count + " accumulators");
    }
  }

  @Test
  void layerNormMatchesTheReference() {
    Random rnd = new Random(5);
    for (int n : new int[] {1, 15, 16, 64, 100, 768}) {
      float[] x = TestMatrices.randomArray(rnd, n, 3f);
      float[] g = TestMatrices.randomArray(rnd, n, 1f);
      float[] b = TestMatrices.randomArray(rnd, n, 1f);
      float[] expected = new float[n];
      float[] got = new float[n];
      REF.layerNorm(x, 0, 1, n, g, b, 1e-5f, expected);
      fast.layerNorm(x, 0, 1, n, g, b, 1e-5f, got);
      assertClose(expected, got, 1e-5, "layerNorm n=" + n);
    }
  }

  @Test
  void attentionPrimitivesMatchTheReferenceAndBlocksMatchSingles() {
    Random rnd = new Random(11);
    for (int headDim : new int[] {16, 24, 32, 64, 128}) {
      for (int count : new int[] {1, 7, 16, 63, 64, 65, 200}) {
        int stride = count + 3;
        float[] q = TestMatrices.randomArray(rnd, 4 * headDim, 1f);
        float[] kt = TestMatrices.randomArray(rnd, headDim * stride + CpuKernels.PAD, 1f);
        int[] qOffs = {0, headDim, 2 * headDim, 3 * headDim};
        int outStride = count + CpuKernels.PAD;
        float[] expected = new float[4 * outStride];
        float[] block = new float[4 * outStride];
        float[] singles = new float[4 * outStride];
        REF.scores(q, qOffs, 4, headDim, kt, 1, stride, count, expected, 0, outStride);
        fast.scores(q, qOffs, 4, headDim, kt, 1, stride, count, block, 0, outStride);
        for (int r = 0; r < 4; r++) {
          fast.scores(q, new int[] {qOffs[r]}, 1, headDim, kt, 1, stride, count, singles, r * outStride, outStride);
        }
        assertClose(expected, block, 1e-5 * headDim, "scores hd=" + headDim + " n=" + count);
        assertArrayEquals(singles, block, "a block of 4 queries equals 4 single queries");

        float[] p = TestMatrices.randomArray(rnd, 4 * outStride, 1f);
        float[] pRef = p.clone();
        float sumRef = REF.softmaxNumerators(pRef, 2, count);
        float sum = fast.softmaxNumerators(p, 2, count);
        assertEquals(sumRef, sum, 1e-5 * count);
        assertClose(Arrays.copyOfRange(pRef, 2, 2 + count), Arrays.copyOfRange(p, 2, 2 + count), 1e-6, "softmax");

        float[] v = TestMatrices.randomArray(rnd, count * (headDim + 5) + CpuKernels.PAD, 1f);
        int[] accOffs = {0, headDim, 2 * headDim, 3 * headDim};
        float[] accRef = TestMatrices.randomArray(rnd, 4 * headDim, 1f);
        float[] accBlock = accRef.clone();
        float[] accSingles = accRef.clone();
        REF.weightedSum(p, 0, outStride, 4, count, v, 2, headDim + 5, headDim, accRef, accOffs);
        fast.weightedSum(p, 0, outStride, 4, count, v, 2, headDim + 5, headDim, accBlock, accOffs);
        for (int r = 0; r < 4; r++) {
          fast.weightedSum(p, r * outStride, outStride, 1, count, v, 2, headDim + 5, headDim, accSingles,
              new int[] {accOffs[r]});
        }
        assertClose(accRef, accBlock, 1e-5 * count, "weightedSum hd=" + headDim + " n=" + count);
        assertArrayEquals(accSingles, accBlock, "a block of 4 queries equals 4 single queries");
      }
    }
  }

  /** The vector fp16/bf16 widening equals the scalar table for every finite 16-bit value. */
  @Test
  void sixteenBitWideningIsExact() {
    int lanes = PanelGemm.L;
    short[] all = new short[1 << 16];
    for (int i = 0; i < all.length; i++) {
      all[i] = (short) i;
    }
    float[] out = new float[lanes];
    var species = jdk.incubator.vector.VectorSpecies.of(short.class,
        jdk.incubator.vector.VectorShape.forBitSize(PanelGemm.F.vectorBitSize() / 2));
    for (int i = 0; i < all.length; i += lanes) {
      var s = jdk.incubator.vector.ShortVector.fromArray(species, all, i);
      PanelGemm.bf16ToFloat(s).intoArray(out, 0);
      for (int j = 0; j < lanes; j++) {
        assertEquals(Float.floatToRawIntBits(Half.bf16ToFloat(all[i + j])), Float.floatToRawIntBits(out[j]));
      }
      PanelGemm.f16ToFloat(s).intoArray(out, 0);
      for (int j = 0; j < lanes; j++) {
        if ((all[i + j] & 0x7c00) != 0x7c00) { // inf and NaN are rejected at packing
          assertEquals(Half.f16ToFloat(all[i + j]), out[j], 0f, "fp16 bits " + Integer.toHexString(i + j));
        }
      }
    }
  }
}
