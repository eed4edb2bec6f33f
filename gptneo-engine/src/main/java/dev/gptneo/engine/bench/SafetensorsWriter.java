package dev.gptneo.engine.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.weights.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file tensor by tensor, streaming: an 8-byte little-endian header
 * length, the JSON header (padded with spaces to a multiple of 8, as Hugging Face does, so every
 * tensor stays aligned), then the tensors' bytes back to back. Only a small buffer is held in
 * memory, so a 10 GB checkpoint needs 10 GB of disk but not of RAM.
 */
public final class SafetensorsWriter {
  private static final int CHUNK_BYTES = 1 << 20;

  private SafetensorsWriter() {}

  /** Produces a tensor's elements in order. */
  public interface Source {
    /** Puts the next {@code count} elements into {@code out} (little-endian), in the tensor's dtype. */
    void next(ByteBuffer out, int count);
  }

  /** One tensor: name, dtype, shape and where its values come from (a fresh source per write). */
  public static final class Tensor {
    public final String name;
    public final DType dtype;
    public final long[] shape;
    final java.util.function.Supplier<Source> source;

    public Tensor(String name, DType dtype, long[] shape, java.util.function.Supplier<Source> source) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape.clone();
      this.source = source;
    }

    public long numel() {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }

    public long bytes() {
      return numel() * dtype.bytes;
    }
  }

  /** The header bytes, padded; the data follows at offset 8 + its length. */
  static byte[] header(List<Tensor> tensors, Map<String, String> metadata) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = root.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Tensor t : tensors) {
      ObjectNode e = root.putObject(t.name);
      e.put("dtype", t.dtype.name());
      ArrayNode shape = e.putArray("shape");
      for (long d : t.shape) {
        shape.add(d);
      }
      long end = offset + t.bytes();
      e.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    byte[] raw = root.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (raw.length + 7) / 8 * 8;
    byte[] out = new byte[padded];
    System.arraycopy(raw, 0, out, 0, raw.length);
    java.util.Arrays.fill(out, raw.length, padded, (byte) ' ');
    return out;
  }

  /** The size of the file {@link #write} produces. */
  public static long fileSize(List<Tensor> tensors, Map<String, String> metadata) {
    long n = 8 + header(tensors, metadata).length;
    for (Tensor t : tensors) {
      n += t.bytes();
    }
    return n;
  }

  /**
   * Writes the file (replacing one that exists).
   *
   * @param progress called with the bytes written so far, after each tensor (may be null)
   * @return the file's size
   */
  public static long write(Path file, List<Tensor> tensors, Map<String, String> metadata,
      java.util.function.LongConsumer progress) throws IOException {
    byte[] header = header(tensors, metadata);
    ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    long written = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
      head.putLong(header.length).put(header).flip();
      written += writeFully(ch, head);
      for (Tensor t : tensors) {
        Source src = t.source.get();
        long left = t.numel();
        int perChunk = CHUNK_BYTES / t.dtype.bytes;
        while (left > 0) {
          int n = (int) Math.min(left, perChunk);
          buf.clear();
          src.next(buf, n);
          if (buf.position() != n * t.dtype.bytes) {
            throw new IllegalStateException(t.name + ": the source wrote " + buf.position() + " bytes for " + n
                + " elements of " + t.dtype);
          }
          buf.flip();
          written += writeFully(ch, buf);
          left -= n;
        }
        if (progress != null) {
          progress.accept(written);
        }
      }
    }
    return written;
  }

  private static long writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    long n = 0;
    while (b.hasRemaining()) {
      n += ch.write(b);
    }
    return n;
  }
}
