package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.weights.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fewer rows than the 8-row kernel (decode): memory-bound, so four panels are streamed together
 * to keep more cache-line loads in flight (about 1.5x the bandwidth of one stream here), and
 * 16-bit weights are widened in registers. Every element is the same FMA chain over k as in
 * {@link PanelGemm}, so rows stay independent of the kernel that ran them.
 */
final class DecodeGemm {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = PanelGemm.L;
  private static final int NR = PanelGemm.NR;
  private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
  /** Panels streamed together. */
  static final int GROUP = 4;
  /** Per-thread scratch: the output tiles of a group of panels, and room for gelu. */
  private static final class Scratch {
    final float[] tiles = new float[GROUP * NR];
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
      for (int m = 0; m < rows; m++) {
        switch (p.dtype) {
          case F32:
            kernel1x4(x, m * k, k, p.f32, panel * panelSize, panelSize, tiles);
            break;
          case BF16:
            kernel1x4Bf16(x, m * k, k, p.s16, panel * panelSize, panelSize, tiles);
            break;
          default:
            kernel1x4F16(x, m * k, k, p.s16, panel * panelSize, panelSize, tiles);
        }
        for (int g = 0; g < GROUP; g++) {
          int n = (panel + g) * NR;
          PanelGemm.store(tiles, g, 1, m, n, Math.min(NR, n1 - n), w.rows, bias, out, epilogue, s.gelu);
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

  /** Four f32 panels, pOff and the next three at stride: tiles (4, NR). */
  private static void kernel1x4(float[] x, int xOff, int k, float[] p, int pOff, int stride, float[] tiles) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
    FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), d0 = FloatVector.zero(F), d1 = FloatVector.zero(F);
    int p1 = pOff + stride, p2 = p1 + stride, p3 = p2 + stride;
    for (int i = 0; i < k; i++) {
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
    storeTiles(tiles, a0, a1, b0, b1, c0, c1, d0, d1);
  }

  private static void kernel1x4Bf16(float[] x, int xOff, int k, short[] p, int pOff, int stride, float[] tiles) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
    FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), d0 = FloatVector.zero(F), d1 = FloatVector.zero(F);
    int p1 = pOff + stride, p2 = p1 + stride, p3 = p2 + stride;
    for (int i = 0; i < k; i++) {
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
    storeTiles(tiles, a0, a1, b0, b1, c0, c1, d0, d1);
  }

  private static void kernel1x4F16(float[] x, int xOff, int k, short[] p, int pOff, int stride, float[] tiles) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), b0 = FloatVector.zero(F), b1 = FloatVector.zero(F);
    FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), d0 = FloatVector.zero(F), d1 = FloatVector.zero(F);
    int p1 = pOff + stride, p2 = p1 + stride, p3 = p2 + stride;
    for (int i = 0; i < k; i++) {
      FloatVector v = FloatVector.broadcast(F, x[xOff + i]);
      int at = i * NR;
      a0 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, pOff + at)).fma(v, a0);
      a1 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, pOff + at + L)).fma(v, a1);
      b0 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, p1 + at)).fma(v, b0);
      b1 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, p1 + at + L)).fma(v, b1);
      c0 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, p2 + at)).fma(v, c0);
      c1 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, p2 + at + L)).fma(v, c1);
      d0 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, p3 + at)).fma(v, d0);
      d1 = PanelGemm.f16ToFloat(ShortVector.fromArray(S, p, p3 + at + L)).fma(v, d1);
    }
    storeTiles(tiles, a0, a1, b0, b1, c0, c1, d0, d1);
  }

  private static void storeTiles(float[] tiles, FloatVector a0, FloatVector a1, FloatVector b0, FloatVector b1,
      FloatVector c0, FloatVector c1, FloatVector d0, FloatVector d1) {
    a0.intoArray(tiles, 0);
    a1.intoArray(tiles, L);
    b0.intoArray(tiles, NR);
    b1.intoArray(tiles, NR + L);
    c0.intoArray(tiles, 2 * NR);
    c1.intoArray(tiles, 2 * NR + L);
    d0.intoArray(tiles, 3 * NR);
    d1.intoArray(tiles, 3 * NR + L);
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
