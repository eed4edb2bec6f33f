package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.weights.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * out = epilogue(x W^T + b) reading W in HF's [out, in] layout straight from the memory-mapped
 * checkpoint: the low-memory path, used when a packed copy would not fit the heap. Each output is a
 * dot product over k with one vector accumulator, then a lane sum; four x rows share each weight
 * load. The same chain per element in the 4-row and 1-row kernels keeps rows independent.
 */
final class MappedGemm {
  private static final VectorSpecies<Float> F = PanelGemm.F;
  private static final int L = F.length();
  private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
  private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

  private MappedGemm() {}

  static void linear(float[] x, int rows, CpuMatrix w, int n0, int n1, float[] bias, float[] out, Epilogue epilogue) {
    int k = w.cols;
    int outCols = w.rows;
    float[] acc = new float[4];
    float[] lanes = new float[L];
    // gelu is applied afterwards, vectorized, over each row's [n0, n1)
    Epilogue perElement = epilogue == Epilogue.GELU_NEW ? Epilogue.STORE : epilogue;
    int n = n0;
    if (rows < 4) { // decode: four weight rows per pass, four independent chains
      for (; n + 4 <= n1; n += 4) {
        for (int m = 0; m < rows; m++) {
          dot1x4(x, m * k, k, w, n, acc, lanes);
          for (int j = 0; j < 4; j++) {
            int o = m * outCols + n + j;
            float b = bias == null ? 0f : bias[n + j];
            out[o] = ScalarKernels.applyEpilogue(acc[j] + b, out[o], perElement);
          }
        }
      }
    }
    for (; n < n1; n++) {
      ByteBuffer part = w.partOf(n);
      int rowAt = (int) w.rowByteOffset(n);
      float b = bias == null ? 0f : bias[n];
      int m = 0;
      for (; m + 4 <= rows; m += 4) {
        dot4(x, m * k, k, part, rowAt, w.dtype, acc, lanes);
        for (int r = 0; r < 4; r++) {
          int o = (m + r) * outCols + n;
          out[o] = ScalarKernels.applyEpilogue(acc[r] + b, out[o], perElement);
        }
      }
      for (; m < rows; m++) {
        int o = m * outCols + n;
        out[o] = ScalarKernels.applyEpilogue(dot1(x, m * k, k, part, rowAt, w.dtype, lanes) + b, out[o], perElement);
      }
    }
    if (epilogue == Epilogue.GELU_NEW) {
      float[] scratch = new float[n1 - n0 + L];
      for (int m = 0; m < rows; m++) {
        int from = m * outCols + n0;
        int whole = (n1 - n0) - (n1 - n0) % L;
        VectorMath.geluInPlace(out, from, whole, scratch);
        for (int i = whole; i < n1 - n0; i++) {
          out[from + i] = VectorMath.geluTwin(out[from + i]);
        }
      }
    }
  }

  private static FloatVector load(ByteBuffer part, int rowAt, int i, DType dtype) {
    switch (dtype) {
      case F32:
        return FloatVector.fromByteBuffer(F, part, rowAt + 4 * i, LE);
      case BF16:
        return PanelGemm.bf16ToFloat(ShortVector.fromByteBuffer(S, part, rowAt + 2 * i, LE));
      default:
        return PanelGemm.f16ToFloat(ShortVector.fromByteBuffer(S, part, rowAt + 2 * i, LE));
    }
  }

  private static float tailWeight(ByteBuffer part, int rowAt, int i, DType dtype) {
    switch (dtype) {
      case F32:
        return part.getFloat(rowAt + 4 * i);
      case BF16:
        return dev.gptneo.engine.weights.Half.bf16ToFloat(part.getShort(rowAt + 2 * i));
      default:
        return dev.gptneo.engine.weights.Half.f16ToFloat(part.getShort(rowAt + 2 * i));
    }
  }

  private static void dot4(float[] x, int xOff, int k, ByteBuffer part, int rowAt, DType dtype, float[] acc,
      float[] lanes) {
    FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
    int upper = k - k % L;
    for (int i = 0; i < upper; i += L) {
      FloatVector wv = load(part, rowAt, i, dtype);
      s0 = FloatVector.fromArray(F, x, xOff + i).fma(wv, s0);
      s1 = FloatVector.fromArray(F, x, xOff + k + i).fma(wv, s1);
      s2 = FloatVector.fromArray(F, x, xOff + 2 * k + i).fma(wv, s2);
      s3 = FloatVector.fromArray(F, x, xOff + 3 * k + i).fma(wv, s3);
    }
    acc[0] = VectorMath.sum(s0, lanes);
    acc[1] = VectorMath.sum(s1, lanes);
    acc[2] = VectorMath.sum(s2, lanes);
    acc[3] = VectorMath.sum(s3, lanes);
    for (int i = upper; i < k; i++) {
      float wi = tailWeight(part, rowAt, i, dtype);
      for (int r = 0; r < 4; r++) {
        acc[r] += x[xOff + r * k + i] * wi;
      }
    }
  }

  /** One x row against weight rows n..n+3: the same chain per element as dot1 and dot4. */
  private static void dot1x4(float[] x, int xOff, int k, CpuMatrix w, int n, float[] acc, float[] lanes) {
    ByteBuffer p0 = w.partOf(n), p1 = w.partOf(n + 1), p2 = w.partOf(n + 2), p3 = w.partOf(n + 3);
    int r0 = (int) w.rowByteOffset(n), r1 = (int) w.rowByteOffset(n + 1);
    int r2 = (int) w.rowByteOffset(n + 2), r3 = (int) w.rowByteOffset(n + 3);
    DType dtype = w.dtype;
    FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
    int upper = k - k % L;
    for (int i = 0; i < upper; i += L) {
      FloatVector xv = FloatVector.fromArray(F, x, xOff + i);
      s0 = xv.fma(load(p0, r0, i, dtype), s0);
      s1 = xv.fma(load(p1, r1, i, dtype), s1);
      s2 = xv.fma(load(p2, r2, i, dtype), s2);
      s3 = xv.fma(load(p3, r3, i, dtype), s3);
    }
    acc[0] = VectorMath.sum(s0, lanes);
    acc[1] = VectorMath.sum(s1, lanes);
    acc[2] = VectorMath.sum(s2, lanes);
    acc[3] = VectorMath.sum(s3, lanes);
    for (int i = upper; i < k; i++) {
      float xi = x[xOff + i];
      acc[0] += xi * tailWeight(p0, r0, i, dtype);
      acc[1] += xi * tailWeight(p1, r1, i, dtype);
      acc[2] += xi * tailWeight(p2, r2, i, dtype);
      acc[3] += xi * tailWeight(p3, r3, i, dtype);
    }
  }

  private static float dot1(float[] x, int xOff, int k, ByteBuffer part, int rowAt, DType dtype, float[] lanes) {
    FloatVector s = FloatVector.zero(F);
    int upper = k - k % L;
    for (int i = 0; i < upper; i += L) {
      s = FloatVector.fromArray(F, x, xOff + i).fma(load(part, rowAt, i, dtype), s);
    }
    float acc = VectorMath.sum(s, lanes);
    for (int i = upper; i < k; i++) {
      acc += x[xOff + i] * tailWeight(part, rowAt, i, dtype);
    }
    return acc;
  }
}
