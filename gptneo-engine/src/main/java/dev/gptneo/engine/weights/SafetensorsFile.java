package dev.gptneo.engine.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gptneo.engine.ModelException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header, then the
 * raw tensor bytes. Each tensor is memory-mapped on its own (a single map is limited to 2 GB, a
 * tensor is not that big), so nothing is copied onto the Java heap.
 */
public final class SafetensorsFile {
  /** Hugging Face's safetensors refuses headers above 100 MB; so do we. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  public final Path path;
  private final Map<String, TensorView> tensors;
  private final Map<String, String> metadata;

  private SafetensorsFile(Path path, Map<String, TensorView> tensors, Map<String, String> metadata) {
    this.path = path;
    this.tensors = Collections.unmodifiableMap(tensors);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  public Map<String, TensorView> tensors() {
    return tensors;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  public TensorView get(String name) {
    TensorView t = tensors.get(name);
    if (t == null) {
      throw new ModelException(path + " has no tensor '" + name + "'");
    }
    return t;
  }

  public static SafetensorsFile open(Path path) {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < 8) {
        throw corrupt(path, "the file has " + fileSize + " bytes, fewer than the 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > fileSize - 8) {
        throw corrupt(path, "header length " + Long.toUnsignedString(headerLen) + " is out of bounds (file size "
            + fileSize + ", limit " + MAX_HEADER_BYTES + ")");
      }
      ByteBuffer header = ByteBuffer.allocate((int) headerLen);
      readFully(ch, header, 8);
      JsonNode json;
      try {
        json = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw corrupt(path, "the JSON header does not parse (" + e.getMessage().split("\n")[0] + ")");
      }
      if (json == null || !json.isObject()) {
        throw corrupt(path, "the header is not a JSON object");
      }
      long dataStart = 8 + headerLen;
      long dataSize = fileSize - dataStart;
      Map<String, TensorView> tensors = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          e.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        tensors.put(e.getKey(), mapTensor(path, ch, e.getKey(), e.getValue(), dataStart, dataSize));
      }
      return new SafetensorsFile(path, tensors, metadata);
    } catch (NoSuchFileException e) {
      throw new ModelException("weights file " + path + " does not exist");
    } catch (IOException e) {
      throw new ModelException("cannot read weights file " + path + ": " + e.getMessage(), e);
    }
  }

  private static TensorView mapTensor(Path path, FileChannel ch, String name, JsonNode entry, long dataStart,
      long dataSize) throws IOException {
    JsonNode dtypeNode = entry.get("dtype");
    JsonNode shapeNode = entry.get("shape");
    JsonNode offsets = entry.get("data_offsets");
    if (dtypeNode == null || shapeNode == null || offsets == null || !shapeNode.isArray() || !offsets.isArray()
        || offsets.size() != 2) {
      throw corrupt(path, "tensor '" + name + "' needs dtype, shape and data_offsets [begin, end]");
    }
    DType dtype = DType.fromSafetensors(dtypeNode.asText());
    if (dtype == null) {
      throw new ModelException(path + ": tensor '" + name + "' has dtype '" + dtypeNode.asText()
          + "', which this engine does not read (weights must be F32, F16 or BF16; convert the checkpoint,"
          + " e.g. model.to(torch.float16).save_pretrained(dir, safe_serialization=True))");
    }
    long[] shape = new long[shapeNode.size()];
    long numel = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong(-1);
      if (shape[i] < 0) {
        throw corrupt(path, "tensor '" + name + "' has a negative or non-integer dimension " + shapeNode);
      }
      try {
        numel = Math.multiplyExact(numel, shape[i]);
        Math.multiplyExact(numel, (long) dtype.bytes);
      } catch (ArithmeticException overflow) {
        throw corrupt(path, "tensor '" + name + "' has shape " + shapeNode + ", too large to be real");
      }
    }
    long begin = offsets.get(0).asLong(-1);
    long end = offsets.get(1).asLong(-1);
    if (begin < 0 || end < begin || end > dataSize) {
      throw corrupt(path, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
          + "] outside the " + dataSize + " data bytes (truncated file?)");
    }
    if (end - begin != numel * dtype.bytes) {
      throw corrupt(path, "tensor '" + name + "' has " + (end - begin) + " bytes but shape " + shapeNode + " of "
          + dtype + " needs " + numel * dtype.bytes);
    }
    if (end - begin > Integer.MAX_VALUE) {
      throw new ModelException(path + ": tensor '" + name + "' is larger than 2 GB, which one mapping cannot hold");
    }
    ByteBuffer bytes = end == begin
        ? ByteBuffer.allocate(0)
        : ch.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin);
    return new TensorView(name, dtype, shape, bytes);
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, at + buf.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  private static ModelException corrupt(Path path, String what) {
    return new ModelException("corrupt safetensors file " + path + ": " + what
        + ". Download the file again or re-save it with safetensors.");
  }
}
