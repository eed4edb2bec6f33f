package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.Half;
import dev.gptneo.engine.weights.SafetensorsFile;
import dev.gptneo.engine.weights.TensorView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Random weight matrices in real safetensors files, as the kernels see them in a checkpoint. */
final class TestMatrices {
  private TestMatrices() {}

  /** A (rows, cols) tensor of the given dtype with values ~ N(0, scale). */
  static TensorView random(Path dir, Random rnd, DType dtype, int rows, int cols, float scale) {
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) rnd.nextGaussian() * scale;
    }
    return tensor(dir, dtype, rows, cols, values);
  }

  static TensorView tensor(Path dir, DType dtype, int rows, int cols, float[] values) {
    int bytes = values.length * dtype.bytes;
    String header = "{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + rows + "," + cols + "],\"data_offsets\":[0,"
        + bytes + "]}}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + bytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    for (float v : values) {
      switch (dtype) {
        case F32:
          b.putFloat(v);
          break;
        case F16:
          b.putShort(Half.floatToF16(v));
          break;
        default:
          b.putShort(Half.floatToBf16(v));
      }
    }
    try {
      Path f = Files.createTempFile(dir, "w", ".safetensors");
      Files.write(f, b.array());
      return SafetensorsFile.open(f).get("w");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static float[] randomArray(Random rnd, int n, float scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) rnd.nextGaussian() * scale;
    }
    return a;
  }
}
