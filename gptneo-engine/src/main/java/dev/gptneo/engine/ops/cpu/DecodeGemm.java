package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.weights.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fewer rows than the 8-row kernel (decode): memory-bound, so four panels are streamed together
 * to keep more cache-line loads in flight (about 1.5x the bandwidth of one stream here); bf16
 * weights are widened in registers, fp16 ones a chunk at a time into a scratch. The kernels run over k in chunks of {@link #KC}: a
 * call that looped over all of a large k (GPT-Neo-1.3B's 2048 and 8192) was compiled by C2
 * with its vector accumulators boxed (on-stack replacement of the long loop, it seems; the
 * decode ran at a quarter of the bandwidth), and short calls are not. Every element is the same
 * FMA chain over k as in {@link PanelGemm} (a chunk's accumulators go through the tile
 * unrounded), so rows stay independent of the kernel that ran them.
 */
final class DecodeGemm {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = PanelGemm.L;
  private static final int NR = PanelGemm.NR;
  private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
  /** Panels streamed together. */
  static final int GROUP = 4;
  /** k per kernel call (1,024 was already too long for C2 to keep the vectors unboxed). */
  static final int KC = 256;
  /** Per-thread scratch: each row's output tiles of a group of panels, and room for gelu. */
  private static final class Scratch {
    final float[] tiles = new float[PanelGemm.MR * GROUP * NR]; // (rows, GROUP, NR)
    final float[] wide = new float[GROUP * KC * NR];             // (GROUP, KC, NR) f16 rows, widened
    final float[] gelu = new float[NR + L];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private DecodeGemm() {}

  static void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue) {
    PackedPanels p = w.packed;
    int k = w.cols;
    int panelSize = k * NR;
    Scratch s = SCRATCH.get();
    float[] tiles = s.tiles;
    int panel = n0 / NR;
    int end = (n1 + NR - 1) / NR; // panels [panel, end)
    for (; panel + GROUP <= end; panel += GROUP) {
      java.util.Arrays.fill(tiles, 0, rows * GROUP * NR, 0f);
      for (int k0 = 0; k0 < k; k0 += KC) { // short loops: see the class comment
        int k1 = Math.min(k, k0 + KC);
        for (int m = 0; m < rows; m++) {
          int t = m * GROUP * NR;
          switch (p.dtype) {
            case F32:
              kernel1x4(x, m * k, k0, k1, p.f32, panel * panelSize, panelSize, tiles, t);
              break;
            case BF16:
              kernel1x4Bf16(x, m * k, k0, k1, p.s16, panel * panelSize, panelSize, tiles, t);
              break;
            default: // F16: widened first (the chunk's rows of the four panels), then the f32 kernel
              if (m == 0) {
                widenF16(p.s16, panel * panelSize, panelSize, k0, k1, s.wide);
              }
              kernel1x4(x, m * k, k0, k1, s.wide, -k0 * NR, KC * NR, tiles, t);
          }
        }
      }
      for (int m = 0; m < rows; m++) {
        for (int g = 0; g < GROUP; g++) {
          int n = (panel + g) * NR;
          PanelGemm.store(tiles, m * GROUP + g, 1, m, n, Math.min(NR, n1 - n), w.rows, bias, out, epilogue, s.gelu);
        }
      }
    }
    for (; panel < end; panel++) {
      int n = panel * NR;
      for (int m = 0; m < rows; m++) {
        switch (p.dtype) {
          case F32:
            PanelGemm.kernel1(x, m * k, k, p.f32, panel * panelSize, tiles);
            break;
          case BF16:
            kernel1Bf16(x, m * k, k, p.s16, panel * panelSize, tiles);
            break;
          default:
            kernel1F16(x, m * k, k, p.s16, panel * panelSize, tiles);
        }
        PanelGemm.store(tiles, 0, 1, m, n, Math.min(NR, n1 - n), w.rows, bias, out, epilogue, s.gelu);
      }
    }
  }

  /**
   * tiles[t..] (4, NR) += x[xOff + i] times four f32 panels (pOff and the next three at stride), rows i
   * in [k0, k1) of each: the accumulators are loaded from the tiles and stored back.
   */
  private static void kernel1x4(float[] x, int xOff, int k0, int k1, float[] p, int pOff, int stride, float[] tiles,
      int t) {
    FloatVector a0 = FloatVector.fromArray(F, tiles, t), a1 = FloatVector.fromArray(F, tiles, t + L);
    FloatVector b0 = FloatVector.fromArray(F, tiles, t + NR), b1 = FloatVector.fromArray(F, tiles, t + NR + L);
    FloatVector c0 = FloatVector.fromArray(F, tiles, t + 2 * NR), c1 = FloatVector.fromArray(F, tiles, t + 2 * NR + L);
    FloatVector d0 = FloatVector.fromArray(F, tiles, t + 3 * NR), d1 = FloatVector.fromArray(F, tiles, t + 3 * NR + L);
    int p1 = pOff + stride, p2 = p1 + stride, p3 = p2 + stride;
    for (int i = k0; i < k1; i++) {
      FloatVector v = FloatVector.broadcast(F, x[xOff + i]);
      int at = i * NR;
      a0 = FloatVector.fromArray(F, p, pOff + at).fma(v, a0);
      a1 = FloatVector.fromArray(F, p, pOff + at + L).fma(v, a1);
      b0 = FloatVector.fromArray(F, p, p1 + at).fma(v, b0);
      b1 = FloatVector.fromArray(F, p, p1 + at + L).fma(v, b1);
      c0 = FloatVector.fromArray(F, p, p2 + at).fma(v, c0);
      c1 = FloatVector.fromArray(F, p, p2 + at + L).fma(v, c1);
      d0 = FloatVector.fromArray(F, p, p3 + at).fma(v, d0);
      d1 = FloatVector.fromArray(F, p, p3 + at + L).fma(v, d1);
    }
    storeTiles(tiles, t, a0, a1, b0, b1, c0, c1, d0, d1);
  }

  /** As {@link #kernel1x4}, four bf16 panels widened in registers. */
  private static void kernel1x4Bf16(float[] x, int xOff, int k0, int k1, short[] p, int pOff, int stride,
      float[] tiles, int t) {
    FloatVector a0 = FloatVector.fromArray(F, tiles, t), a1 = FloatVector.fromArray(F, tiles, t + L);
    FloatVector b0 = FloatVector.fromArray(F, tiles, t + NR), b1 = FloatVector.fromArray(F, tiles, t + NR + L);
    FloatVector c0 = FloatVector.fromArray(F, tiles, t + 2 * NR), c1 = FloatVector.fromArray(F, tiles, t + 2 * NR + L);
    FloatVector d0 = FloatVector.fromArray(F, tiles, t + 3 * NR), d1 = FloatVector.fromArray(F, tiles, t + 3 * NR + L);
    int p1 = pOff + stride, p2 = p1 + stride, p3 = p2 + stride;
    for (int i = k0; i < k1; i++) {
      FloatVector v = FloatVector.broadcast(F, x[xOff + i]);
      int at = i * NR;
      a0 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, pOff + at)).fma(v, a0);
      a1 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, pOff + at + L)).fma(v, a1);
      b0 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, p1 + at)).fma(v, b0);
      b1 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, p1 + at + L)).fma(v, b1);
      c0 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, p2 + at)).fma(v, c0);
      c1 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, p2 + at + L)).fma(v, c1);
      d0 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, p3 + at)).fma(v, d0);
      d1 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, p3 + at + L)).fma(v, d1);
    }
    storeTiles(tiles, t, a0, a1, b0, b1, c0, c1, d0, d1);
  }

  /**
   * wide (GROUP, KC, NR) = rows [k0, k1) of four fp16 panels (pOff and the next three at stride), as
   * floats. fp16 widening takes more Vector API calls than bf16's, and inside the four-panel kernel
   * C2 ran out of inlining budget and boxed its vectors (7x slower); a plain loop keeps them unboxed.
   */
  private static void widenF16(short[] p, int pOff, int stride, int k0, int k1, float[] wide) {
    int count = (k1 - k0) * NR;
    int from = pOff + k0 * NR;
    int w1 = KC * NR, w2 = 2 * w1, w3 = 3 * w1;
    for (int i = 0; i < count; i += L) { // the four panels side by side: four streams from memory
      int at = from + i;
      PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, at)).intoArray(wide, i);
      PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, at + stride)).intoArray(wide, w1 + i);
      PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, at + 2 * stride)).intoArray(wide, w2 + i);
      PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, at + 3 * stride)).intoArray(wide, w3 + i);
    }
  }

  private static void storeTiles(float[] tiles, int t, FloatVector a0, FloatVector a1, FloatVector b0,
      FloatVector b1, FloatVector c0, FloatVector c1, FloatVector d0, FloatVector d1) {
    a0.intoArray(tiles, t);
    a1.intoArray(tiles, t + L);
    b0.intoArray(tiles, t + NR);
    b1.intoArray(tiles, t + NR + L);
    c0.intoArray(tiles, t + 2 * NR);
    c1.intoArray(tiles, t + 2 * NR + L);
    d0.intoArray(tiles, t + 3 * NR);
    d1.intoArray(tiles, t + 3 * NR + L);
  }

  /** One bf16 panel, widened in registers. */
  private static void kernel1Bf16(float[] x, int xOff, int k, short[] p, int pOff, float[] tile) {
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = FloatVector.zero(F);
    for (int i = 0; i < k; i++) {
      int at = pOff + i * NR;
      FloatVector v = FloatVector.broadcast(F, x[xOff + i]);
      a0 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, at)).fma(v, a0);
      a1 = PanelGemm.bf16ToFloat(ShortVector.fromArray(S, p, at + L)).fma(v, a1);
    }
    a0.intoArray(tile, 0);
    a1.intoArray(tile, L);
  }

  /** One fp16 panel, widened in registers. */
  private static void kernel1F16(float[] x, int xOff, int k, short[] p, int pOff, float[] tile) {
    FloatVector a0 = FloatVector.zero(F);
    FloatVector a1 = FloatVector.zero(F);
    for (int i = 0; i < k; i++) {
      int at = pOff + i * NR;
      FloatVector v = FloatVector.broadcast(F, x[xOff + i]);
      a0 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, at)).fma(v, a0);
      a1 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, at + L)).fma(v, a1);
    }
    a0.intoArray(tile, 0);
    a1.intoArray(tile, L);
  }
}
