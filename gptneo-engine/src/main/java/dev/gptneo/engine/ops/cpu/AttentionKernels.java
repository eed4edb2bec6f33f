package dev.gptneo.engine.ops.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API inner loops of attention. Four queries share each key or value load (prefill), which
 * cuts the cache traffic four-fold; a single query (decode) runs the same per-element chains alone.
 * Partial vectors are computed whole into a tile and copied (masked vector ops are slow on JDK 17),
 * so key arrays carry {@link CpuKernels#PAD} floats of slack.
 */
final class AttentionKernels {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = F.length();
  private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[8 * L]);

  private AttentionKernels() {}

  static void scores(float[] q, int[] qOffs, int nq, int headDim, float[] kt, int ktOff, int ktStride, int count,
      float[] out, int outOff, int outStride) {
    if (nq == 4) {
      int i = 0;
      for (; i + 4 * L <= count; i += 4 * L) {
        scores4x4(q, qOffs, headDim, kt, ktOff + i, ktStride, out, outOff + i, outStride);
      }
      for (; i < count; i += L) {
        scores4x1(q, qOffs, headDim, kt, ktOff + i, ktStride, out, outOff + i, outStride, Math.min(L, count - i));
      }
      return;
    }
    for (int r = 0; r < nq; r++) {
      int o = outOff + r * outStride;
      for (int i = 0; i < count; i += 8 * L) {
        scores1x8(q, qOffs[r], headDim, kt, ktOff + i, ktStride, out, o + i, Math.min(8 * L, count - i));
      }
    }
  }

  /** 4 queries x 4L keys: 16 chains. */
  private static void scores4x4(float[] q, int[] qOffs, int headDim, float[] kt, int at, int ktStride, float[] out,
      int outAt, int outStride) {
    FloatVector a00 = FloatVector.zero(F), a01 = FloatVector.zero(F), a02 = FloatVector.zero(F), a03 = FloatVector.zero(F);
    FloatVector a10 = FloatVector.zero(F), a11 = FloatVector.zero(F), a12 = FloatVector.zero(F), a13 = FloatVector.zero(F);
    FloatVector a20 = FloatVector.zero(F), a21 = FloatVector.zero(F), a22 = FloatVector.zero(F), a23 = FloatVector.zero(F);
    FloatVector a30 = FloatVector.zero(F), a31 = FloatVector.zero(F), a32 = FloatVector.zero(F), a33 = FloatVector.zero(F);
    int q0 = qOffs[0], q1 = qOffs[1], q2 = qOffs[2], q3 = qOffs[3];
    for (int d = 0; d < headDim; d++) {
      int row = at + d * ktStride;
      FloatVector k0 = FloatVector.fromArray(F, kt, row);
      FloatVector k1 = FloatVector.fromArray(F, kt, row + L);
      FloatVector k2 = FloatVector.fromArray(F, kt, row + 2 * L);
      FloatVector k3 = FloatVector.fromArray(F, kt, row + 3 * L);
      FloatVector b = FloatVector.broadcast(F, q[q0 + d]);
      a00 = k0.fma(b, a00);
      a01 = k1.fma(b, a01);
      a02 = k2.fma(b, a02);
      a03 = k3.fma(b, a03);
      b = FloatVector.broadcast(F, q[q1 + d]);
      a10 = k0.fma(b, a10);
      a11 = k1.fma(b, a11);
      a12 = k2.fma(b, a12);
      a13 = k3.fma(b, a13);
      b = FloatVector.broadcast(F, q[q2 + d]);
      a20 = k0.fma(b, a20);
      a21 = k1.fma(b, a21);
      a22 = k2.fma(b, a22);
      a23 = k3.fma(b, a23);
      b = FloatVector.broadcast(F, q[q3 + d]);
      a30 = k0.fma(b, a30);
      a31 = k1.fma(b, a31);
      a32 = k2.fma(b, a32);
      a33 = k3.fma(b, a33);
    }
    int o1 = outAt + outStride, o2 = o1 + outStride, o3 = o2 + outStride;
    a00.intoArray(out, outAt);
    a01.intoArray(out, outAt + L);
    a02.intoArray(out, outAt + 2 * L);
    a03.intoArray(out, outAt + 3 * L);
    a10.intoArray(out, o1);
    a11.intoArray(out, o1 + L);
    a12.intoArray(out, o1 + 2 * L);
    a13.intoArray(out, o1 + 3 * L);
    a20.intoArray(out, o2);
    a21.intoArray(out, o2 + L);
    a22.intoArray(out, o2 + 2 * L);
    a23.intoArray(out, o2 + 3 * L);
    a30.intoArray(out, o3);
    a31.intoArray(out, o3 + L);
    a32.intoArray(out, o3 + 2 * L);
    a33.intoArray(out, o3 + 3 * L);
  }

  /** 4 queries x up to L keys ({@code valid} of them stored). */
  private static void scores4x1(float[] q, int[] qOffs, int headDim, float[] kt, int at, int ktStride, float[] out,
      int outAt, int outStride, int valid) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
    int q0 = qOffs[0], q1 = qOffs[1], q2 = qOffs[2], q3 = qOffs[3];
    for (int d = 0; d < headDim; d++) {
      FloatVector k = FloatVector.fromArray(F, kt, at + d * ktStride);
      a0 = k.fma(FloatVector.broadcast(F, q[q0 + d]), a0);
      a1 = k.fma(FloatVector.broadcast(F, q[q1 + d]), a1);
      a2 = k.fma(FloatVector.broadcast(F, q[q2 + d]), a2);
      a3 = k.fma(FloatVector.broadcast(F, q[q3 + d]), a3);
    }
    float[] tile = TILE.get();
    a0.intoArray(tile, 0);
    a1.intoArray(tile, L);
    a2.intoArray(tile, 2 * L);
    a3.intoArray(tile, 3 * L);
    for (int r = 0; r < 4; r++) {
      System.arraycopy(tile, r * L, out, outAt + r * outStride, valid);
    }
  }

  /**
   * 1 query x up to 8L keys ({@code valid} of them stored): 8 chains, always, so a short run costs
   * one chain's latency; the keys past {@code valid} are read from kt's slack and dropped.
   */
  private static void scores1x8(float[] q, int qOff, int headDim, float[] kt, int at, int ktStride, float[] out,
      int outAt, int valid) {
    FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
    FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
    for (int d = 0; d < headDim; d++) {
      FloatVector b = FloatVector.broadcast(F, q[qOff + d]);
      int row = at + d * ktStride;
      a0 = FloatVector.fromArray(F, kt, row).fma(b, a0);
      a1 = FloatVector.fromArray(F, kt, row + L).fma(b, a1);
      a2 = FloatVector.fromArray(F, kt, row + 2 * L).fma(b, a2);
      a3 = FloatVector.fromArray(F, kt, row + 3 * L).fma(b, a3);
      a4 = FloatVector.fromArray(F, kt, row + 4 * L).fma(b, a4);
      a5 = FloatVector.fromArray(F, kt, row + 5 * L).fma(b, a5);
      a6 = FloatVector.fromArray(F, kt, row + 6 * L).fma(b, a6);
      a7 = FloatVector.fromArray(F, kt, row + 7 * L).fma(b, a7);
    }
    float[] tile = TILE.get();
    a0.intoArray(tile, 0);
    a1.intoArray(tile, L);
    a2.intoArray(tile, 2 * L);
    a3.intoArray(tile, 3 * L);
    a4.intoArray(tile, 4 * L);
    a5.intoArray(tile, 5 * L);
    a6.intoArray(tile, 6 * L);
    a7.intoArray(tile, 7 * L);
    System.arraycopy(tile, 0, out, outAt, valid);
  }

  static void weightedSum(float[] p, int pOff, int pStride, int nq, int count, float[] v, int vOff, int vStride,
      int headDim, float[] acc, int[] accOffs) {
    int vectorDims = headDim - headDim % L;
    if (nq == 4) {
      int d = 0;
      for (; d + 4 * L <= vectorDims; d += 4 * L) {
        weighted4x4(p, pOff, pStride, count, v, vOff + d, vStride, acc, accOffs, d);
      }
      for (; d < vectorDims; d += L) {
        weighted4x1(p, pOff, pStride, count, v, vOff + d, vStride, acc, accOffs, d);
      }
    } else {
      for (int r = 0; r < nq; r++) {
        int d = 0;
        for (; d + 4 * L <= vectorDims; d += 4 * L) {
          weighted1x4(p, pOff + r * pStride, count, v, vOff + d, vStride, acc, accOffs[r] + d);
        }
        for (; d < vectorDims; d += L) {
          weighted1x1(p, pOff + r * pStride, count, v, vOff + d, vStride, acc, accOffs[r] + d);
        }
      }
    }
    for (int r = 0; r < nq; r++) { // dimensions past the last whole vector
      for (int d = vectorDims; d < headDim; d++) {
        float a = acc[accOffs[r] + d];
        for (int i = 0; i < count; i++) {
          a = Math.fma(v[vOff + i * vStride + d], p[pOff + r * pStride + i], a);
        }
        acc[accOffs[r] + d] = a;
      }
    }
  }

  /** 4 queries x four vectors of dimensions: 16 chains sharing each value load. */
  private static void weighted4x4(float[] p, int pOff, int pStride, int count, float[] v, int vAt, int vStride,
      float[] acc, int[] accOffs, int d) {
    int p0 = pOff, p1 = p0 + pStride, p2 = p1 + pStride, p3 = p2 + pStride;
    int c0 = accOffs[0] + d, c1 = accOffs[1] + d, c2 = accOffs[2] + d, c3 = accOffs[3] + d;
    FloatVector a00 = FloatVector.fromArray(F, acc, c0), a01 = FloatVector.fromArray(F, acc, c0 + L);
    FloatVector a02 = FloatVector.fromArray(F, acc, c0 + 2 * L), a03 = FloatVector.fromArray(F, acc, c0 + 3 * L);
    FloatVector a10 = FloatVector.fromArray(F, acc, c1), a11 = FloatVector.fromArray(F, acc, c1 + L);
    FloatVector a12 = FloatVector.fromArray(F, acc, c1 + 2 * L), a13 = FloatVector.fromArray(F, acc, c1 + 3 * L);
    FloatVector a20 = FloatVector.fromArray(F, acc, c2), a21 = FloatVector.fromArray(F, acc, c2 + L);
    FloatVector a22 = FloatVector.fromArray(F, acc, c2 + 2 * L), a23 = FloatVector.fromArray(F, acc, c2 + 3 * L);
    FloatVector a30 = FloatVector.fromArray(F, acc, c3), a31 = FloatVector.fromArray(F, acc, c3 + L);
    FloatVector a32 = FloatVector.fromArray(F, acc, c3 + 2 * L), a33 = FloatVector.fromArray(F, acc, c3 + 3 * L);
    for (int i = 0; i < count; i++) {
      int row = vAt + i * vStride;
      FloatVector v0 = FloatVector.fromArray(F, v, row);
      FloatVector v1 = FloatVector.fromArray(F, v, row + L);
      FloatVector v2 = FloatVector.fromArray(F, v, row + 2 * L);
      FloatVector v3 = FloatVector.fromArray(F, v, row + 3 * L);
      FloatVector w = FloatVector.broadcast(F, p[p0 + i]);
      a00 = v0.fma(w, a00);
      a01 = v1.fma(w, a01);
      a02 = v2.fma(w, a02);
      a03 = v3.fma(w, a03);
      w = FloatVector.broadcast(F, p[p1 + i]);
      a10 = v0.fma(w, a10);
      a11 = v1.fma(w, a11);
      a12 = v2.fma(w, a12);
      a13 = v3.fma(w, a13);
      w = FloatVector.broadcast(F, p[p2 + i]);
      a20 = v0.fma(w, a20);
      a21 = v1.fma(w, a21);
      a22 = v2.fma(w, a22);
      a23 = v3.fma(w, a23);
      w = FloatVector.broadcast(F, p[p3 + i]);
      a30 = v0.fma(w, a30);
      a31 = v1.fma(w, a31);
      a32 = v2.fma(w, a32);
      a33 = v3.fma(w, a33);
    }
    a00.intoArray(acc, c0);
    a01.intoArray(acc, c0 + L);
    a02.intoArray(acc, c0 + 2 * L);
    a03.intoArray(acc, c0 + 3 * L);
    a10.intoArray(acc, c1);
    a11.intoArray(acc, c1 + L);
    a12.intoArray(acc, c1 + 2 * L);
    a13.intoArray(acc, c1 + 3 * L);
    a20.intoArray(acc, c2);
    a21.intoArray(acc, c2 + L);
    a22.intoArray(acc, c2 + 2 * L);
    a23.intoArray(acc, c2 + 3 * L);
    a30.intoArray(acc, c3);
    a31.intoArray(acc, c3 + L);
    a32.intoArray(acc, c3 + 2 * L);
    a33.intoArray(acc, c3 + 3 * L);
  }

  /** 4 queries x one vector of dimensions: 4 chains sharing each value load. */
  private static void weighted4x1(float[] p, int pOff, int pStride, int count, float[] v, int vAt, int vStride,
      float[] acc, int[] accOffs, int d) {
    int p0 = pOff, p1 = p0 + pStride, p2 = p1 + pStride, p3 = p2 + pStride;
    FloatVector a0 = FloatVector.fromArray(F, acc, accOffs[0] + d);
    FloatVector a1 = FloatVector.fromArray(F, acc, accOffs[1] + d);
    FloatVector a2 = FloatVector.fromArray(F, acc, accOffs[2] + d);
    FloatVector a3 = FloatVector.fromArray(F, acc, accOffs[3] + d);
    for (int i = 0; i < count; i++) {
      FloatVector row = FloatVector.fromArray(F, v, vAt + i * vStride);
      a0 = row.fma(FloatVector.broadcast(F, p[p0 + i]), a0);
      a1 = row.fma(FloatVector.broadcast(F, p[p1 + i]), a1);
      a2 = row.fma(FloatVector.broadcast(F, p[p2 + i]), a2);
      a3 = row.fma(FloatVector.broadcast(F, p[p3 + i]), a3);
    }
    a0.intoArray(acc, accOffs[0] + d);
    a1.intoArray(acc, accOffs[1] + d);
    a2.intoArray(acc, accOffs[2] + d);
    a3.intoArray(acc, accOffs[3] + d);
  }

  /** 1 query x four vectors of dimensions: 4 chains. */
  private static void weighted1x4(float[] p, int pOff, int count, float[] v, int vAt, int vStride, float[] acc,
      int accAt) {
    FloatVector a0 = FloatVector.fromArray(F, acc, accAt);
    FloatVector a1 = FloatVector.fromArray(F, acc, accAt + L);
    FloatVector a2 = FloatVector.fromArray(F, acc, accAt + 2 * L);
    FloatVector a3 = FloatVector.fromArray(F, acc, accAt + 3 * L);
    for (int i = 0; i < count; i++) {
      FloatVector w = FloatVector.broadcast(F, p[pOff + i]);
      int row = vAt + i * vStride;
      a0 = FloatVector.fromArray(F, v, row).fma(w, a0);
      a1 = FloatVector.fromArray(F, v, row + L).fma(w, a1);
      a2 = FloatVector.fromArray(F, v, row + 2 * L).fma(w, a2);
      a3 = FloatVector.fromArray(F, v, row + 3 * L).fma(w, a3);
    }
    a0.intoArray(acc, accAt);
    a1.intoArray(acc, accAt + L);
    a2.intoArray(acc, accAt + 2 * L);
    a3.intoArray(acc, accAt + 3 * L);
  }

  private static void weighted1x1(float[] p, int pOff, int count, float[] v, int vAt, int vStride, float[] acc,
      int accAt) {
    FloatVector a = FloatVector.fromArray(F, acc, accAt);
    for (int i = 0; i < count; i++) {
      a = FloatVector.fromArray(F, v, vAt + i * vStride).fma(FloatVector.broadcast(F, p[pOff + i]), a);
    }
    a.intoArray(acc, accAt);
  }
}
