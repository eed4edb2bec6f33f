package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.Half;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * out = epilogue(x W^T + b) reading W in HF's [out, in] layout from the memory-mapped checkpoint: the
 * low-memory path, used when a packed copy would not fit the heap.
 *
 * <p>Weight rows go 16 at a time, bulk-copied from the mapping (the Vector API's loads from buffers
 * were slower, and are gone since Java 19): widened into a heap tile (16, k), then 4 x rows by 4
 * weight rows share each load (prefill), or one x row meets all 16 (decode; 16-bit rows are widened
 * in registers from the copied bits, 8 or 4 at a time, more would not fit C2's inlining budget). Every output
 * element is one chain, whichever kernel computes it: lane l of a vector accumulator sums x[i] w[i]
 * over i = l, l + L, ... (k rounded down to L) with fused multiply-adds, the lanes are added in the
 * fixed tree of {@link VectorMath#sum} (16 accumulators at once, {@link LaneSums}), then the last
 * k % L terms in order. So a row's result does not depend on the other rows in the call.
 */
final class MappedGemm {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = F.length();
  private static final VectorSpecies<Short> S =
      VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
  /** Weight rows per tile: 16 accumulators, one lane-sum pass. */
  private static final int TILE = 16;
  /** Floats of x rows a prefill block keeps in L2 while every weight tile of the task passes over it. */
  private static final int X_BLOCK_FLOATS = 96 * 1024;

  /** Per-thread scratch: widened weight rows (TILE, k), a tile's accumulators (TILE, L) and their sums. */
  private static final class Scratch {
    float[] weights = new float[0];
    final float[] acc = new float[TILE * L];
    final float[] sums = new float[TILE];
    final float[] lanes = new float[L];
    float[] gelu = new float[0];
    short[] bits = new short[0];    // (TILE, k) 16-bit rows copied from the mapping
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private MappedGemm() {}

  static void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue) {
    Scratch s = SCRATCH.get();
    int k = w.cols;
    if (s.weights.length < TILE * k) {
      s.weights = new float[TILE * k];
    }
    // gelu is applied afterwards, vectorized, over each row's [n0, n1)
    Epilogue perElement = epilogue == Epilogue.GELU_NEW ? Epilogue.STORE : epilogue;
    int blockRows = Math.max(4, X_BLOCK_FLOATS / k / 4 * 4);
    for (int m0 = 0; m0 < rows; m0 += blockRows) {
      int m1 = Math.min(rows, m0 + blockRows);
      for (int n = n0; n + TILE <= n1; n += TILE) {
        if (w.dtype != DType.F32 && m1 - m0 < 4 && k % L == 0) {
          // 16-bit decode: the 16 rows' bits copied from the mapping once, widened in registers per x row
          if (s.bits.length < TILE * k) {
            s.bits = new short[TILE * k];
          }
          for (int j = 0; j < TILE; j++) {
            w.copyBits(n + j, 0, s.bits, j * k, k);
          }
          for (int m = m0; m < m1; m++) {
            if (w.dtype == DType.F16) {
              for (int c = 0; c < TILE; c += 4) {
                tile1x4F16Bits(x, m * k, k, s.bits, c * k, s.acc, c);
              }
            } else {
              tile1x8Bf16Bits(x, m * k, k, s.bits, 0, s.acc, 0);
              tile1x8Bf16Bits(x, m * k, k, s.bits, 8 * k, s.acc, 8);
            }
            finish(x, m, 1, k, s.weights, 0, TILE, w.rows, n, bias, out, perElement, s);
          }
          continue;
        }
        for (int j = 0; j < TILE; j++) {
          widen(w, n + j, s.weights, j * k, s);
        }
        int m = m0;
        for (; m + 4 <= m1; m += 4) {
          for (int c = 0; c < TILE; c += 4) {
            tile4x4(x, m * k, k, s.weights, c * k, s.acc);
            finish(x, m, 4, k, s.weights, c, 4, w.rows, n + c, bias, out, perElement, s);
          }
        }
        for (; m < m1; m++) { // decode rows, and the last few of a prefill
          tile1x16(x, m * k, k, s.weights, s.acc);
          finish(x, m, 1, k, s.weights, 0, TILE, w.rows, n, bias, out, perElement, s);
        }
      }
    }
    edge(x, rows, w, n1 - (n1 - n0) % TILE, n1, bias, out, perElement, s);
    if (epilogue == Epilogue.GELU_NEW) {
      if (s.gelu.length < n1 - n0 + L) {
        s.gelu = new float[n1 - n0 + L];
      }
      for (int m = 0; m < rows; m++) {
        int from = m * w.rows + n0;
        int whole = (n1 - n0) - (n1 - n0) % L;
        VectorMath.geluInPlace(out, from, whole, s.gelu);
        for (int i = whole; i < n1 - n0; i++) {
          out[from + i] = VectorMath.geluTwin(out[from + i]);
        }
      }
    }
  }

  /**
   * Sums the lanes of a tile's accumulators (x row r, weight row j at s.acc[(r * cols + j) * L ..]), adds
   * the k % L tail terms (weight row j at weights[(firstRow + j) * k ..]), and writes out[m + r, n + j]
   * (rows of outCols) for r &lt; xRows, j &lt; cols.
   */
  private static void finish(float[] x, int m, int xRows, int k, float[] weights, int firstRow, int cols,
      int outCols, int n, float[] bias, float[] out, Epilogue epilogue, Scratch s) {
    LaneSums.sum(s.acc, TILE, s.sums);
    if (k % L != 0) {
      addTails(x, m, xRows, k, weights, firstRow, cols, s.sums);
    }
    boolean add = epilogue == Epilogue.ADD; // (GELU_NEW comes later, over whole rows)
    for (int r = 0; r < xRows; r++) {
      int o = (m + r) * outCols + n;
      for (int j = 0; j < cols; j++) {
        float v = s.sums[r * cols + j] + (bias == null ? 0f : bias[n + j]);
        out[o + j] = add ? out[o + j] + v : v;
      }
    }
  }

  /** sums[r * cols + j] += the k % L last terms of x row m + r and weight row firstRow + j, in order. */
  private static void addTails(float[] x, int m, int xRows, int k, float[] weights, int firstRow, int cols,
      float[] sums) {
    for (int r = 0; r < xRows; r++) {
      for (int j = 0; j < cols; j++) {
        float acc = sums[r * cols + j];
        for (int i = k - k % L; i < k; i++) {
          acc += x[(m + r) * k + i] * weights[(firstRow + j) * k + i];
        }
        sums[r * cols + j] = acc;
      }
    }
  }

  /** Weight rows [from, to), fewer than a tile (a matrix's last rows): one element at a time. */
  private static void edge(float[] x, int rows, CpuMatrix w, int from, int to, float[] bias, float[] out,
      Epilogue epilogue, Scratch s) {
    int k = w.cols;
    for (int n = from; n < to; n++) {
      widen(w, n, s.weights, (n - from) * k, s);
    }
    for (int m = 0; m < rows; m++) {
      for (int n = from; n < to; n++) {
        int o = m * w.rows + n;
        float b = bias == null ? 0f : bias[n];
        out[o] = ScalarKernels.applyEpilogue(dot1(x, m * k, k, s.weights, (n - from) * k, s.lanes) + b, out[o],
            epilogue);
      }
    }
  }

  /**
   * dst[off, off + k) = weight row n as floats: a bulk copy of the row from the mapping, widened from
   * the heap. (The Vector API's loads from buffers were slower, and are gone since Java 19.)
   */
  private static void widen(CpuMatrix w, int n, float[] dst, int off, Scratch s) {
    int k = w.cols;
    if (w.dtype == DType.F32) {
      w.copyFloats(n, 0, dst, off, k);
      return;
    }
    if (s.bits.length < k) {
      s.bits = new short[k];
    }
    w.copyBits(n, 0, s.bits, 0, k);
    int whole = k - k % L;
    if (w.dtype == DType.BF16) {
      for (int i = 0; i < whole; i += L) {
        PanelGemm.bf16ToFloat(ShortVector.fromArray(S, s.bits, i)).intoArray(dst, off + i);
      }
    } else {
      for (int i = 0; i < whole; i += L) {
        PanelGemm.f16ToFloat(ShortVector.fromArray(S, s.bits, i)).intoArray(dst, off + i);
      }
    }
    for (int i = whole; i < k; i++) {
      dst[off + i] = w.dtype == DType.BF16 ? Half.bf16ToFloat(s.bits[i]) : Half.f16ToFloat(s.bits[i]);
    }
  }

  /**
   * acc[(r * 4 + j) * L ..] = lanes of x row r (4 rows from xOff, k apart) times weight row j (4 rows from
   * wOff, k apart), over k rounded down to L: 16 accumulators.
   */
  private static void tile4x4(float[] x, int xOff, int k, float[] w, int wOff, float[] acc) {
    FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F);
    FloatVector a03 = FloatVector.zero(F), a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
    FloatVector a12 = FloatVector.zero(F), a13 = FloatVector.zero(F), a20 = FloatVector.zero(F);
    FloatVector a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
    FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F);
    FloatVector a33 = FloatVector.zero(F);
    int upper = k - k % L;
    for (int i = 0; i < upper; i += L) {
      FloatVector w0 = FloatVector.fromArray(F, w, wOff + i);
      FloatVector w1 = FloatVector.fromArray(F, w, wOff + k + i);
      FloatVector w2 = FloatVector.fromArray(F, w, wOff + 2 * k + i);
      FloatVector w3 = FloatVector.fromArray(F, w, wOff + 3 * k + i);
      FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
      a00 = xv.fma(w0, a00);
      a01 = xv.fma(w1, a01);
      a02 = xv.fma(w2, a02);
      a03 = xv.fma(w3, a03);
      xv = FloatVector.fromArray(F, x, xOff + k + i);
      a10 = xv.fma(w0, a10);
      a11 = xv.fma(w1, a11);
      a12 = xv.fma(w2, a12);
      a13 = xv.fma(w3, a13);
      xv = FloatVector.fromArray(F, x, xOff + 2 * k + i);
      a20 = xv.fma(w0, a20);
      a21 = xv.fma(w1, a21);
      a22 = xv.fma(w2, a22);
      a23 = xv.fma(w3, a23);
      xv = FloatVector.fromArray(F, x, xOff + 3 * k + i);
      a30 = xv.fma(w0, a30);
      a31 = xv.fma(w1, a31);
      a32 = xv.fma(w2, a32);
      a33 = xv.fma(w3, a33);
    }
    a00.intoArray(acc, 0);
    a01.intoArray(acc, L);
    a02.intoArray(acc, 2 * L);
    a03.intoArray(acc, 3 * L);
    a10.intoArray(acc, 4 * L);
    a11.intoArray(acc, 5 * L);
    a12.intoArray(acc, 6 * L);
    a13.intoArray(acc, 7 * L);
    a20.intoArray(acc, 8 * L);
    a21.intoArray(acc, 9 * L);
    a22.intoArray(acc, 10 * L);
    a23.intoArray(acc, 11 * L);
    a30.intoArray(acc, 12 * L);
    a31.intoArray(acc, 13 * L);
    a32.intoArray(acc, 14 * L);
    a33.intoArray(acc, 15 * L);
  }

  /** acc[j * L ..] = lanes of one x row (at xOff) times weight row j (16 rows, k apart), over k rounded down to L. */
  private static void tile1x16(float[] x, int xOff, int k, float[] w, float[] acc) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
    FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
    FloatVector a8 = FloatVector.zero(F), a9 = FloatVector.zero(F), a10 = FloatVector.zero(F);
    FloatVector a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
    FloatVector a14 = FloatVector.zero(F), a15 = FloatVector.zero(F);
    int upper = k - k % L;
    for (int i = 0; i < upper; i += L) {
      FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
      a0 = xv.fma(FloatVector.fromArray(F, w, i), a0);
      a1 = xv.fma(FloatVector.fromArray(F, w, k + i), a1);
      a2 = xv.fma(FloatVector.fromArray(F, w, 2 * k + i), a2);
      a3 = xv.fma(FloatVector.fromArray(F, w, 3 * k + i), a3);
      a4 = xv.fma(FloatVector.fromArray(F, w, 4 * k + i), a4);
      a5 = xv.fma(FloatVector.fromArray(F, w, 5 * k + i), a5);
      a6 = xv.fma(FloatVector.fromArray(F, w, 6 * k + i), a6);
      a7 = xv.fma(FloatVector.fromArray(F, w, 7 * k + i), a7);
      a8 = xv.fma(FloatVector.fromArray(F, w, 8 * k + i), a8);
      a9 = xv.fma(FloatVector.fromArray(F, w, 9 * k + i), a9);
      a10 = xv.fma(FloatVector.fromArray(F, w, 10 * k + i), a10);
      a11 = xv.fma(FloatVector.fromArray(F, w, 11 * k + i), a11);
      a12 = xv.fma(FloatVector.fromArray(F, w, 12 * k + i), a12);
      a13 = xv.fma(FloatVector.fromArray(F, w, 13 * k + i), a13);
      a14 = xv.fma(FloatVector.fromArray(F, w, 14 * k + i), a14);
      a15 = xv.fma(FloatVector.fromArray(F, w, 15 * k + i), a15);
    }
    a0.intoArray(acc, 0);
    a1.intoArray(acc, L);
    a2.intoArray(acc, 2 * L);
    a3.intoArray(acc, 3 * L);
    a4.intoArray(acc, 4 * L);
    a5.intoArray(acc, 5 * L);
    a6.intoArray(acc, 6 * L);
    a7.intoArray(acc, 7 * L);
    a8.intoArray(acc, 8 * L);
    a9.intoArray(acc, 9 * L);
    a10.intoArray(acc, 10 * L);
    a11.intoArray(acc, 11 * L);
    a12.intoArray(acc, 12 * L);
    a13.intoArray(acc, 13 * L);
    a14.intoArray(acc, 14 * L);
    a15.intoArray(acc, 15 * L);
  }

  /**
   * acc[(first + j) * L ..] = lanes of one x row times bf16 weight row j (8 rows of copied bits from
   * off, k apart), widened in registers: eight streams, as many as C2's inlining budget allows
   * before it boxes the vectors.
   */
  private static void tile1x8Bf16Bits(float[] x, int xOff, int k, short[] bits, int off, float[] acc, int first) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
    FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
    for (int i = 0; i + L <= k; i += L) {
      FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
      int at = off + i;
      a0 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at)), a0);
      a1 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at + k)), a1);
      a2 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at + 2 * k)), a2);
      a3 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at + 3 * k)), a3);
      a4 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at + 4 * k)), a4);
      a5 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at + 5 * k)), a5);
      a6 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at + 6 * k)), a6);
      a7 = xv.fma(PanelGemm.bf16ToFloat(ShortVector.fromArray(S, bits, at + 7 * k)), a7);
    }
    a0.intoArray(acc, first * L);
    a1.intoArray(acc, (first + 1) * L);
    a2.intoArray(acc, (first + 2) * L);
    a3.intoArray(acc, (first + 3) * L);
    a4.intoArray(acc, (first + 4) * L);
    a5.intoArray(acc, (first + 5) * L);
    a6.intoArray(acc, (first + 6) * L);
    a7.intoArray(acc, (first + 7) * L);
  }

  /**
   * {@link #tile1x8Bf16Bits} for fp16 rows, four of them: fp16's widening takes more operations, and
   * eight streams of it would not fit C2's inlining budget.
   */
  private static void tile1x4F16Bits(float[] x, int xOff, int k, short[] bits, int off, float[] acc, int first) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
    for (int i = 0; i + L <= k; i += L) {
      FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
      int at = off + i;
      a0 = xv.fma(PanelGemm.f16ToFloat(ShortVector.fromArray(S, bits, at)), a0);
      a1 = xv.fma(PanelGemm.f16ToFloat(ShortVector.fromArray(S, bits, at + k)), a1);
      a2 = xv.fma(PanelGemm.f16ToFloat(ShortVector.fromArray(S, bits, at + 2 * k)), a2);
      a3 = xv.fma(PanelGemm.f16ToFloat(ShortVector.fromArray(S, bits, at + 3 * k)), a3);
    }
    a0.intoArray(acc, first * L);
    a1.intoArray(acc, (first + 1) * L);
    a2.intoArray(acc, (first + 2) * L);
    a3.intoArray(acc, (first + 3) * L);
  }

  /** One element: the same chain as the tiles, its lanes summed by {@link VectorMath#sum}. */
  private static float dot1(float[] x, int xOff, int k, float[] w, int wOff, float[] lanes) {
    FloatVector acc = FloatVector.zero(F);
    int upper = k - k % L;
    for (int i = 0; i < upper; i += L) {
      acc = FloatVector.fromArray(F, x, xOff + i).fma(FloatVector.fromArray(F, w, wOff + i), acc);
    }
    float sum = VectorMath.sum(acc, lanes);
    for (int i = upper; i < k; i++) {
      sum += x[xOff + i] * w[wOff + i];
    }
    return sum;
  }
}
