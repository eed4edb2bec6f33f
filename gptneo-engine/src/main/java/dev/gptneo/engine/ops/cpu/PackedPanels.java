package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.weights.DType;

/**
 * A weight matrix re-laid for the register-blocked GEMM: the out dimension is cut into panels of
 * {@code nr} columns, and each panel is stored k-major, so the kernel reads {@code nr} contiguous
 * weights per k. The last panel is padded with zeros. 16-bit checkpoints stay 16-bit (half the
 * memory and half the bandwidth for decode); the kernel widens a panel before use.
 *
 * <p>Element (n, k) of the matrix is at {@code ((n / nr) * cols + k) * nr + n % nr}.
 */
final class PackedPanels {
  final int nr;        // columns per panel
  final int panels;    // ceil(rows / nr)
  final int cols;      // k
  final DType dtype;
  final float[] f32;   // (panels, cols, nr) when dtype == F32
  final short[] s16;   // (panels, cols, nr) raw F16/BF16 bits otherwise

  private PackedPanels(int nr, int panels, int cols, DType dtype, float[] f32, short[] s16) {
    this.nr = nr;
    this.panels = panels;
    this.cols = cols;
    this.dtype = dtype;
    this.f32 = f32;
    this.s16 = s16;
  }

  static PackedPanels pack(CpuMatrix w, int nr) {
    int panels = (w.rows + nr - 1) / nr;
    long size = (long) panels * w.cols * nr;
    if (size > Integer.MAX_VALUE - 16) {
      throw new ModelException(w.name + " is too large to pack on the heap (" + size + " elements)");
    }
    if (w.dtype == DType.F32) {
      float[] dst = new float[(int) size];
      for (int n = 0; n < w.rows; n++) {
        int base = (n / nr) * w.cols * nr + n % nr;
        for (int k = 0; k < w.cols; k++) {
          dst[base + k * nr] = w.get(n, k);
        }
      }
      return new PackedPanels(nr, panels, w.cols, w.dtype, dst, null);
    }
    short[] dst = new short[(int) size];
    for (int n = 0; n < w.rows; n++) {
      int base = (n / nr) * w.cols * nr + n % nr;
      for (int k = 0; k < w.cols; k++) {
        short bits = w.getBits(n, k);
        if (w.dtype == DType.F16 && (bits & 0x7c00) == 0x7c00) {
          throw new ModelException(w.name + " holds an infinite or NaN fp16 value at [" + n + ", " + k
              + "]; the checkpoint is damaged");
        }
        dst[base + k * nr] = bits;
      }
    }
    return new PackedPanels(nr, panels, w.cols, w.dtype, null, dst);
  }
}
