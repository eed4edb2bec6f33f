package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.Half;
import dev.gptneo.engine.weights.TensorView;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A weight matrix in HF's [out, in] layout, possibly several checkpoint tensors stacked along the
 * out dimension (q, k and v become one [3 * hidden, hidden] matrix). Read straight from the
 * memory-mapped checkpoint: F32 as floats, F16/BF16 kept 16-bit and converted as they are read.
 * Fast kernels may attach a packed copy ({@link #packed}).
 */
public final class CpuMatrix implements Ops.Matrix {
  public final String name;
  public final int rows;          // out features, all parts together
  public final int cols;          // in features
  public final DType dtype;
  final ByteBuffer[] parts;       // (parts) little-endian bytes of each stacked tensor
  private final java.nio.Buffer[] elementViews; // (parts) the same bytes as floats (F32) or shorts (F16, BF16)
  final int partRows;             // rows per part (all parts have the same shape)
  /** A kernel-specific layout built once at load, or null to read the mapped weights. */
  PackedPanels packed;

  CpuMatrix(TensorView... stacked) {
    TensorView first = stacked[0];
    if (first.rank() != 2) {
      throw new IllegalArgumentException(first.name + " must be 2-D, is " + first);
    }
    StringBuilder names = new StringBuilder();
    parts = new ByteBuffer[stacked.length];
    for (int i = 0; i < stacked.length; i++) {
      TensorView t = stacked[i];
      if (t.dtype != first.dtype || t.rank() != 2 || t.shape[0] != first.shape[0] || t.shape[1] != first.shape[1]) {
        throw new ModelException("cannot stack " + t + " with " + first + ": shapes and dtypes must match");
      }
      parts[i] = t.bytes().order(ByteOrder.LITTLE_ENDIAN);
      names.append(i == 0 ? "" : "+").append(t.name);
    }
    this.name = names.toString();
    this.partRows = first.dim(0);
    this.rows = Math.multiplyExact(partRows, stacked.length);
    this.cols = first.dim(1);
    this.dtype = first.dtype;
    if (!dtype.isFloatWeight()) {
      throw new IllegalArgumentException(first.name + " has dtype " + dtype + "; weights must be F32, F16 or BF16");
    }
    elementViews = new java.nio.Buffer[parts.length];
    for (int i = 0; i < parts.length; i++) {
      elementViews[i] = dtype == DType.F32 ? parts[i].asFloatBuffer() : parts[i].asShortBuffer();
    }
  }

  /** dst[off, off + count) = elements [c0, c0 + count) of row r of an F32 matrix: one bulk copy. */
  void copyFloats(int r, int c0, float[] dst, int off, int count) {
    ((java.nio.FloatBuffer) elementViews[r / partRows]).get((r % partRows) * cols + c0, dst, off, count);
  }

  /** dst[off, off + count) = the raw 16-bit elements [c0, c0 + count) of row r (F16, BF16): one bulk copy. */
  void copyBits(int r, int c0, short[] dst, int off, int count) {
    ((java.nio.ShortBuffer) elementViews[r / partRows]).get((r % partRows) * cols + c0, dst, off, count);
  }

  @Override
  public int rows() {
    return rows;
  }

  @Override
  public int cols() {
    return cols;
  }

  /** The mapped bytes holding row r, and the byte offset of the row in them. */
  ByteBuffer partOf(int r) {
    return parts[r / partRows];
  }

  long rowByteOffset(int r) {
    return (long) (r % partRows) * cols * dtype.bytes;
  }

  /** Element (r, c) as float. */
  float get(int r, int c) {
    ByteBuffer b = partOf(r);
    int at = (int) (rowByteOffset(r) + (long) c * dtype.bytes);
    switch (dtype) {
      case F32:
        return b.getFloat(at);
      case F16:
        return Half.f16ToFloat(b.getShort(at));
      default:
        return Half.bf16ToFloat(b.getShort(at));
    }
  }

  /** Element (r, c) as raw 16-bit bits (F16/BF16 only). */
  short getBits(int r, int c) {
    return partOf(r).getShort((int) (rowByteOffset(r) + (long) c * 2));
  }

  /** dst[off..off+cols) = row r as floats. */
  void readRow(int r, float[] dst, int off) {
    ByteBuffer b = partOf(r);
    int base = (int) rowByteOffset(r);
    switch (dtype) {
      case F32:
        b.asFloatBuffer().get(base / 4, dst, off, cols);
        break;
      case F16:
        for (int c = 0; c < cols; c++) {
          dst[off + c] = Half.f16ToFloat(b.getShort(base + 2 * c));
        }
        break;
      default:
        for (int c = 0; c < cols; c++) {
          dst[off + c] = Half.bf16ToFloat(b.getShort(base + 2 * c));
        }
    }
  }
}
