package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.weights.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * out = epilogue(x W^T + b) over packed panels. Up to {@link #PAIR_ROWS} rows (batched decode)
 * the panels go two at a time: rows 0-3 over both at once (two weight streams from DRAM keep more
 * loads in flight than one), then the rest in 8-row register blocks (16 vector accumulators) per
 * panel from cache, then 4-row blocks over both panels, then single rows. More rows (prefill):
 * one panel at a time, 8-row blocks, then single rows. Every output element
 * is the same chain of fused multiply-adds over k = 0, 1, ..., whichever kernel computes it, so a
 * row's result does not depend on the other rows in the call.
 */
final class PanelGemm {
  static final VectorSpecies<Float> F = VectorWidth.FLOAT;
  static final int L = F.length();
  /** Panel width: two vectors. */
  static final int NR = 2 * L;
  static final int MR = 8;
  /** Most rows for which panels go in pairs. */
  static final int PAIR_ROWS = 64;
  private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
  static final VectorSpecies<Integer> I = VectorWidth.INT; // F's shape, for bit casts (VectorMath)

  /** Per-thread scratch: a widened panel (cols, NR) and the output tile (MR, NR). */
  private static final class Scratch {
    float[] panel = new float[0];
    final float[] tile = new float[MR * NR];
    final float[] gelu = new float[MR * NR + L];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private PanelGemm() {}

  /** Columns [n0, n1) of out; n0 must start a panel. x: (rows, cols), out: (rows, w.rows). */
  static void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue) {
    PackedPanels p = w.packed;
    assert n0 % NR == 0 && p.nr == NR;
    int k = w.cols;
    Scratch s = SCRATCH.get();
    if (rows < MR) {
      DecodeGemm.linear(x, rows, w, n0, n1, bias, out, epilogue);
      return;
    }
    int panelFloats = k * NR;
    for (int panel = n0 / NR; panel * NR < n1; ) {
      // panels in this pass: two where each panel's first pass from DRAM is a large share of its
      // work (decode-sized batches); one for prefill, which reads a panel from cache many times
      int count = rows <= PAIR_ROWS && (panel + 1) * NR < n1 ? 2 : 1;
      float[] weights;
      int wOff;
      if (p.dtype == DType.F32) {
        weights = p.f32;
        wOff = panel * panelFloats;
      } else {
        if (s.panel.length < count * panelFloats) {
          s.panel = new float[2 * panelFloats];
        }
        widen(p.s16, panel * panelFloats, count, panelFloats, p.dtype, s.panel);
        weights = s.panel;
        wOff = 0;
      }
      int m = 0;
      if (count == 2) { // rows 0-3 over both panels: two streams from DRAM in the first pass
        m = pairs(x, 0, 4, k, weights, wOff, panel, n1, w.rows, bias, out, epilogue, s);
      }
      int blocksEnd = m + (rows - m) / MR * MR;
      for (int q = 0; q < count; q++) {
        int n = (panel + q) * NR;
        int valid = Math.min(NR, n1 - n);
        for (int mm = m; mm < blocksEnd; mm += MR) {
          kernel8(x, mm * k, k, weights, wOff + q * panelFloats, s.tile);
          store(s.tile, 0, MR, mm, n, valid, w.rows, bias, out, epilogue, s.gelu);
        }
      }
      m = count == 2 ? pairs(x, blocksEnd, rows, k, weights, wOff, panel, n1, w.rows, bias, out, epilogue, s) : blocksEnd;
      for (int q = 0; q < count; q++) {
        int n = (panel + q) * NR;
        for (int mm = m; mm < rows; mm++) {
          kernel1(x, mm * k, k, weights, wOff + q * panelFloats, s.tile);
          store(s.tile, 0, 1, mm, n, Math.min(NR, n1 - n), w.rows, bias, out, epilogue, s.gelu);
        }
      }
      panel += count;
    }
  }

  /** Rows [from, to) in blocks of 4 over two adjacent panels; returns the first row left over. */
  private static int pairs(float[] x, int from, int to, int k, float[] weights, int wOff, int panel, int n1,
      int outCols, float[] bias, float[] out, Epilogue epilogue, Scratch s) {
    int m = from;
    int n = panel * NR;
    for (; m + 4 <= to; m += 4) {
      kernel4x2(x, m * k, k, weights, wOff, wOff + k * NR, s.tile);
      store(s.tile, 0, 4, m, n, NR, outCols, bias, out, epilogue, s.gelu);
      store(s.tile, 4, 4, m, n + NR, Math.min(NR, n1 - n - NR), outCols, bias, out, epilogue, s.gelu);
    }
    return m;
  }

  /**
   * tile rows 0-3 (4, NR) = x[4 rows] (4, k) times panel a (k, NR), tile rows 4-7 the same rows
   * times panel b: 16 accumulators, each the same chain over k as kernel8's.
   */
  private static void kernel4x2(float[] x, int xOff, int k, float[] p, int aOff, int bOff, float[] tile) {
    FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), b00 = FloatVector.zero(F), b01 = FloatVector.zero(F);
    FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), b10 = FloatVector.zero(F), b11 = FloatVector.zero(F);
    FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), b20 = FloatVector.zero(F), b21 = FloatVector.zero(F);
    FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), b30 = FloatVector.zero(F), b31 = FloatVector.zero(F);
    int x1 = xOff + k, x2 = x1 + k, x3 = x2 + k;
    for (int i = 0; i < k; i++) {
      int at = aOff + i * NR;
      int bt = bOff + i * NR;
      FloatVector wa0 = FloatVector.fromArray(F, p, at);
      FloatVector wa1 = FloatVector.fromArray(F, p, at + L);
      FloatVector wb0 = FloatVector.fromArray(F, p, bt);
      FloatVector wb1 = FloatVector.fromArray(F, p, bt + L);
      FloatVector v = FloatVector.broadcast(F, x[xOff + i]);
      a00 = wa0.fma(v, a00);
      a01 = wa1.fma(v, a01);
      b00 = wb0.fma(v, b00);
      b01 = wb1.fma(v, b01);
      v = FloatVector.broadcast(F, x[x1 + i]);
      a10 = wa0.fma(v, a10);
      a11 = wa1.fma(v, a11);
      b10 = wb0.fma(v, b10);
      b11 = wb1.fma(v, b11);
      v = FloatVector.broadcast(F, x[x2 + i]);
      a20 = wa0.fma(v, a20);
      a21 = wa1.fma(v, a21);
      b20 = wb0.fma(v, b20);
      b21 = wb1.fma(v, b21);
      v = FloatVector.broadcast(F, x[x3 + i]);
      a30 = wa0.fma(v, a30);
      a31 = wa1.fma(v, a31);
      b30 = wb0.fma(v, b30);
      b31 = wb1.fma(v, b31);
    }
    a00.intoArray(tile, 0);
    a01.intoArray(tile, L);
    a10.intoArray(tile, NR);
    a11.intoArray(tile, NR + L);
    a20.intoArray(tile, 2 * NR);
    a21.intoArray(tile, 2 * NR + L);
    a30.intoArray(tile, 3 * NR);
    a31.intoArray(tile, 3 * NR + L);
    b00.intoArray(tile, 4 * NR);
    b01.intoArray(tile, 4 * NR + L);
    b10.intoArray(tile, 5 * NR);
    b11.intoArray(tile, 5 * NR + L);
    b20.intoArray(tile, 6 * NR);
    b21.intoArray(tile, 6 * NR + L);
    b30.intoArray(tile, 7 * NR);
    b31.intoArray(tile, 7 * NR + L);
  }

  /** tile (8, NR) = x[8 rows] (8, k) times the panel (k, NR): 16 accumulators. */
  private static void kernel8(float[] x, int xOff, int k, float[] p, int pOff, float[] tile) {
    FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F);
    FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F);
    FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F);
    FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F);
    FloatVector a40 = FloatVector.zero(F), a41 = FloatVector.zero(F);
    FloatVector a50 = FloatVector.zero(F), a51 = FloatVector.zero(F);
    FloatVector a60 = FloatVector.zero(F), a61 = FloatVector.zero(F);
    FloatVector a70 = FloatVector.zero(F), a71 = FloatVector.zero(F);
    int x1 = xOff + k, x2 = x1 + k, x3 = x2 + k, x4 = x3 + k, x5 = x4 + k, x6 = x5 + k, x7 = x6 + k;
    for (int i = 0; i < k; i++) {
      int at = pOff + i * NR;
      FloatVector w0 = FloatVector.fromArray(F, p, at);
      FloatVector w1 = FloatVector.fromArray(F, p, at + L);
      FloatVector b = FloatVector.broadcast(F, x[xOff + i]);
      a00 = w0.fma(b, a00);
      a01 = w1.fma(b, a01);
      b = FloatVector.broadcast(F, x[x1 + i]);
      a10 = w0.fma(b, a10);
      a11 = w1.fma(b, a11);
      b = FloatVector.broadcast(F, x[x2 + i]);
      a20 = w0.fma(b, a20);
      a21 = w1.fma(b, a21);
      b = FloatVector.broadcast(F, x[x3 + i]);
      a30 = w0.fma(b, a30);
      a31 = w1.fma(b, a31);
      b = FloatVector.broadcast(F, x[x4 + i]);
      a40 = w0.fma(b, a40);
      a41 = w1.fma(b, a41);
      b = FloatVector.broadcast(F, x[x5 + i]);
      a50 = w0.fma(b, a50);
      a51 = w1.fma(b, a51);
      b = FloatVector.broadcast(F, x[x6 + i]);
      a60 = w0.fma(b, a60);
      a61 = w1.fma(b, a61);
      b = FloatVector.broadcast(F, x[x7 + i]);
      a70 = w0.fma(b, a70);
      a71 = w1.fma(b, a71);
    }
    a00.intoArray(tile, 0);
    a01.intoArray(tile, L);
    a10.intoArray(tile, NR);
    a11.intoArray(tile, NR + L);
    a20.intoArray(tile, 2 * NR);
    a21.intoArray(tile, 2 * NR + L);
    a30.intoArray(tile, 3 * NR);
    a31.intoArray(tile, 3 * NR + L);
    a40.intoArray(tile, 4 * NR);
    a41.intoArray(tile, 4 * NR + L);
    a50.intoArray(tile, 5 * NR);
    a51.intoArray(tile, 5 * NR + L);
    a60.intoArray(tile, 6 * NR);
    a61.intoArray(tile, 6 * NR + L);
    a70.intoArray(tile, 7 * NR);
    a71.intoArray(tile, 7 * NR + L);
  }

  /** tile (1, NR) = x row (1, k) times the panel (k, NR): the same chain per element as kernel8. */
  static void kernel1(float[] x, int xOff, int k, float[] p, int pOff, float[] tile) {
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = FloatVector.zero(F);
    for (int i = 0; i < k; i++) {
      int at = pOff + i * NR;
      FloatVector b = FloatVector.broadcast(F, x[xOff + i]);
      a0 = FloatVector.fromArray(F, p, at).fma(b, a0);
      a1 = FloatVector.fromArray(F, p, at + L).fma(b, a1);
    }
    a0.intoArray(tile, 0);
    a1.intoArray(tile, L);
  }

  /**
   * Applies bias and epilogue to tile rows [firstTileRow, + tileRows) and writes their valid columns
   * to out rows m.. . geluScratch: tileRows * NR + L floats.
   */
  static void store(float[] tile, int firstTileRow, int tileRows, int m, int n, int valid, int outCols, float[] bias,
      float[] out, Epilogue epilogue, float[] geluScratch) {
    if (valid < NR) {
      storePartial(tile, firstTileRow, tileRows, m, n, valid, outCols, bias, out, epilogue);
      return;
    }
    if (epilogue == Epilogue.GELU_NEW) { // gelu over the whole tile at once, then copy out
      int t0 = firstTileRow * NR;
      if (bias != null) {
        for (int r = 0; r < tileRows; r++) {
          for (int c = 0; c < NR; c += L) {
            int t = t0 + r * NR + c;
            FloatVector.fromArray(F, tile, t).add(FloatVector.fromArray(F, bias, n + c)).intoArray(tile, t);
          }
        }
      }
      VectorMath.geluInPlace(tile, t0, tileRows * NR, geluScratch);
      for (int r = 0; r < tileRows; r++) {
        System.arraycopy(tile, t0 + r * NR, out, (m + r) * outCols + n, NR);
      }
      return;
    }
    for (int r = 0; r < tileRows; r++) {
      int o = (m + r) * outCols + n;
      int t = (firstTileRow + r) * NR;
      for (int c = 0; c < NR; c += L) {
        FloatVector v = FloatVector.fromArray(F, tile, t + c);
        if (bias != null) {
          v = v.add(FloatVector.fromArray(F, bias, n + c));
        }
        if (epilogue == Epilogue.ADD) {
          v = v.add(FloatVector.fromArray(F, out, o + c));
        }
        v.intoArray(out, o + c);
      }
    }
  }

  /** The last panel of a matrix whose rows are not a multiple of NR (vocab, label heads): rare, scalar. */
  private static void storePartial(float[] tile, int firstTileRow, int tileRows, int m, int n, int valid,
      int outCols, float[] bias, float[] out, Epilogue epilogue) {
    for (int r = 0; r < tileRows; r++) {
      int o = (m + r) * outCols + n;
      for (int j = 0; j < valid; j++) {
        float v = tile[(firstTileRow + r) * NR + j] + (bias == null ? 0f : bias[n + j]);
        out[o + j] = ScalarKernels.applyEpilogue(v, out[o + j], epilogue);
      }
    }
  }

  /**
   * dst[0 .. panels * size) = 16-bit weights src[from ..) as floats, for one or two panels of
   * {@code size} weights; two are read side by side, two streams from DRAM.
   */
  private static void widen(short[] src, int from, int panels, int size, DType dtype, float[] dst) {
    assert size % L == 0 : "a panel is k rows of two vectors";
    if (panels == 1) {
      widenOne(src, from, size, dtype, dst);
      return;
    }
    if (dtype == DType.BF16) {
      for (int i = 0; i < size; i += L) {
        bf16ToFloat(ShortVector.fromArray(S, src, from + i)).intoArray(dst, i);
        bf16ToFloat(ShortVector.fromArray(S, src, from + size + i)).intoArray(dst, size + i);
      }
    } else {
      for (int i = 0; i < size; i += L) {
        f16ToFloat(ShortVector.fromArray(S, src, from + i)).intoArray(dst, i);
        f16ToFloat(ShortVector.fromArray(S, src, from + size + i)).intoArray(dst, size + i);
      }
    }
  }

  private static void widenOne(short[] src, int from, int size, DType dtype, float[] dst) {
    if (dtype == DType.BF16) {
      for (int i = 0; i < size; i += L) {
        bf16ToFloat(ShortVector.fromArray(S, src, from + i)).intoArray(dst, i);
      }
    } else {
      for (int i = 0; i < size; i += L) {
        f16ToFloat(ShortVector.fromArray(S, src, from + i)).intoArray(dst, i);
      }
    }
  }

  /** bf16 is the top half of an fp32. */
  static FloatVector bf16ToFloat(ShortVector s) {
    IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
    return (FloatVector) i.lanewise(VectorOperators.LSHL, 16).reinterpretShape(F, 0);
  }

  /**
   * fp16 to fp32 for finite values (packing rejects inf/NaN): move sign, exponent and mantissa into
   * fp32 position, then scale by 2^112 to rebias the exponent; subnormals come out right too.
   */
  static FloatVector f16ToFloat(ShortVector s) {
    IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, I, 0); // sign-extended
    IntVector bits = i.lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
    // the constant is the receiver: C2 knows its class, so the multiply is intrinsified even where
    // the cast's result class is not known (inside the decode kernels it was not: 7x slower)
    return F16_SCALE.mul((FloatVector) bits.reinterpretShape(F, 0));
  }

  private static final FloatVector F16_SCALE = FloatVector.broadcast(F, 0x1p112f);
}
