package dev.gptneo.spark.distribution;

import dev.gptneo.spark.distribution.ModelFolder.ModelFile;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * A model shipped as many broadcasts of at most {@code spark.gptneo.broadcast.chunkSize} bytes
 * each, so no byte array or serialized blob ever holds a whole file: models above 2 GB (and files
 * above 2 GB) work. Offsets are longs; a chunk is one slice of one file.
 */
public final class ModelChunks {
  private ModelChunks() {}

  /** Where a chunk's bytes go. */
  public static final class Slice implements Serializable {
    private static final long serialVersionUID = 1L;
    public final String file;
    public final long offset;
    public final int length;

    Slice(String file, long offset, int length) {
      this.file = file;
      this.offset = offset;
      this.length = length;
    }
  }

  /** The broadcast value: a slice and its bytes. */
  public static final class Chunk implements Serializable {
    private static final long serialVersionUID = 1L;
    public final Slice slice;
    public final byte[] bytes;

    Chunk(Slice slice, byte[] bytes) {
      this.slice = slice;
      this.bytes = bytes;
    }
  }

  /** Cuts each file (in the given order) into slices of at most chunkBytes. */
  public static List<Slice> plan(List<ModelFile> files, long chunkBytes) {
    if (chunkBytes < 1 || chunkBytes > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("chunk size must be between 1 byte and 2 GB, got " + chunkBytes);
    }
    List<Slice> slices = new ArrayList<>();
    for (ModelFile f : files) {
      for (long offset = 0; offset < f.size; offset += chunkBytes) {
        slices.add(new Slice(f.name, offset, (int) Math.min(chunkBytes, f.size - offset)));
      }
    }
    return slices;
  }

  /** Driver: reads each slice and broadcasts it; only one chunk is on the heap at a time. */
  public static List<Broadcast<Chunk>> broadcast(JavaSparkContext sc, FileSystem fs, Path dir, List<Slice> slices)
      throws IOException {
    List<Broadcast<Chunk>> out = new ArrayList<>(slices.size());
    for (Slice s : slices) {
      byte[] bytes = new byte[s.length];
      try (FSDataInputStream in = fs.open(new Path(dir, s.file))) {
        in.readFully(s.offset, bytes);
      }
      out.add(sc.broadcast(new Chunk(s, bytes)));
    }
    return out;
  }

  /**
   * Executor: writes the chunks into {@code target} and checks the content hash on the way.
   * Slices come in the order of {@link #plan}, so the digest sees each file's bytes in order.
   */
  public static void materialize(List<Broadcast<Chunk>> chunks, List<ModelFile> files, java.nio.file.Path target,
      String expectedHash) throws IOException {
    Files.createDirectories(target);
    MessageDigest digest = ModelFolder.ContentHash.newDigest();
    int next = 0;
    for (ModelFile f : files) {
      ModelFolder.ContentHash.updateHeader(digest, f.name, f.size);
      try (FileChannel out = FileChannel.open(target.resolve(f.name), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        long written = 0;
        while (written < f.size) {
          Chunk c = chunks.get(next++).value();
          if (!c.slice.file.equals(f.name) || c.slice.offset != written) {
            throw new IllegalStateException("model chunks out of order: expected " + f.name + "@" + written
                + ", got " + c.slice.file + "@" + c.slice.offset);
          }
          digest.update(c.bytes);
          ByteBuffer buf = ByteBuffer.wrap(c.bytes);
          while (buf.hasRemaining()) {
            out.write(buf, written + buf.position());
          }
          written += c.bytes.length;
        }
      }
    }
    String actual = HexFormat.of().formatHex(digest.digest());
    if (!actual.equals(expectedHash)) {
      throw new IllegalStateException("the model received by broadcast has hash " + actual + " but the driver sent "
          + expectedHash + "; the files changed while they were being read");
    }
  }
}
