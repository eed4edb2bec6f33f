package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.Half;
import dev.gptneo.engine.weights.TensorView;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * A weight matrix in HF's [out, in] layout, read straight from the memory-mapped checkpoint: F32
 * as floats, F16/BF16 kept 16-bit and converted as they are read. Fast kernels may attach a
 * packed copy ({@link #packed}).
 */
public final class CpuMatrix implements Ops.Matrix {
  public final String name;
  public final int rows;         // out features
  public final int cols;         // in features
  public final DType dtype;
  final FloatBuffer f32;         // (rows * cols) when dtype == F32
  final ShortBuffer s16;         // (rows * cols) when dtype is F16 or BF16
  /** A kernel-specific layout, built once at load by the kernels that want one. */
  Object packed;

  CpuMatrix(TensorView t) {
    if (t.rank() != 2) {
      throw new IllegalArgumentException(t.name + " must be 2-D, is " + t);
    }
    this.name = t.name;
    this.rows = t.dim(0);
    this.cols = t.dim(1);
    this.dtype = t.dtype;
    ByteBuffer b = t.bytes();
    this.f32 = dtype == DType.F32 ? b.asFloatBuffer() : null;
    this.s16 = dtype == DType.F16 || dtype == DType.BF16 ? b.asShortBuffer() : null;
    if (f32 == null && s16 == null) {
      throw new IllegalArgumentException(t.name + " has dtype " + dtype + "; weights must be F32, F16 or BF16");
    }
  }

  @Override
  public int rows() {
    return rows;
  }

  @Override
  public int cols() {
    return cols;
  }

  /** Element (r, c) as float. */
  float get(int r, int c) {
    int i = r * cols + c;
    switch (dtype) {
      case F32:
        return f32.get(i);
      case F16:
        return Half.f16ToFloat(s16.get(i));
      default:
        return Half.bf16ToFloat(s16.get(i));
    }
  }

  /** dst[off..off+cols) = row r as floats. */
  void readRow(int r, float[] dst, int off) {
    int base = r * cols;
    switch (dtype) {
      case F32:
        f32.get(base, dst, off, cols);
        break;
      case F16:
        for (int c = 0; c < cols; c++) {
          dst[off + c] = Half.f16ToFloat(s16.get(base + c));
        }
        break;
      default:
        for (int c = 0; c < cols; c++) {
          dst[off + c] = Half.bf16ToFloat(s16.get(base + c));
        }
    }
  }
}
