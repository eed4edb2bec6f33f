package dev.gptneo.engine.weights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: its dtype, shape and a read-only little-endian view of its
 * bytes (memory-mapped, off the Java heap).
 */
public final class TensorView {
  public final String name;
  public final DType dtype;
  public final long[] shape;
  private final ByteBuffer data; // (numel * dtype.bytes), little-endian, position 0

  TensorView(String name, DType dtype, long[] shape, ByteBuffer data) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape;
    this.data = data.order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A view of the bytes, positioned at 0; each call returns an independent duplicate. */
  public ByteBuffer bytes() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  public int rank() {
    return shape.length;
  }

  public int dim(int i) {
    return Math.toIntExact(shape[i]);
  }

  /** Element i converted to float (weights of any float dtype). */
  public float getFloat(long i) {
    int at = Math.toIntExact(i * dtype.bytes);
    switch (dtype) {
      case F32:
        return data.getFloat(at);
      case F16:
        return Half.f16ToFloat(data.getShort(at));
      case BF16:
        return Half.bf16ToFloat(data.getShort(at));
      case F64:
        return (float) data.getDouble(at);
      case I64:
        return data.getLong(at);
      case I32:
        return data.getInt(at);
      default:
        throw new IllegalStateException(name + ": " + dtype + " is not a float type");
    }
  }

  /** A heap copy as fp32. Meant for small tensors (norms, biases, goldens), not whole matrices in hot paths. */
  public float[] toFloatArray() {
    float[] out = new float[Math.toIntExact(numel())];
    for (int i = 0; i < out.length; i++) {
      out[i] = getFloat(i);
    }
    return out;
  }

  /** Integer tensors (I64/I32) as ints, e.g. token ids in golden files. */
  public int[] toIntArray() {
    int[] out = new int[Math.toIntExact(numel())];
    for (int i = 0; i < out.length; i++) {
      switch (dtype) {
        case I64:
          out[i] = Math.toIntExact(data.getLong(i * 8));
          break;
        case I32:
          out[i] = data.getInt(i * 4);
          break;
        default:
          throw new IllegalStateException(name + ": " + dtype + " is not an integer type");
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }
}
