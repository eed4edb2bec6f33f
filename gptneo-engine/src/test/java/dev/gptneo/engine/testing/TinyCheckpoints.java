package dev.gptneo.engine.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.weights.Half;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes small Hugging Face GPT-Neo folders for tests: a config.json and random weights in
 * safetensors (F32, F16 or BF16), optionally sharded, with or without the {@code transformer.}
 * prefix, a separate LM head, the old attention-mask buffers and the classification / QA heads.
 * Also a raw safetensors writer for corrupt-file tests.
 *
 * <p>Weights are multiples of 1/64 in [-1, 1], exact in F16 and BF16, so one model written in
 * any of the three dtypes gives bit-identical results.
 */
public final class TinyCheckpoints {
  public static final ObjectMapper JSON = new ObjectMapper();

  private TinyCheckpoints() {}

  /** One tensor to write: a dtype name (as safetensors spells it), a shape and fp32 values. */
  public static final class Tensor {
    public final String dtype;
    public final long[] shape;
    public final float[] values; // converted to dtype on write; null when raw is set
    public final byte[] raw;     // the exact bytes, for non-float dtypes and corrupt files

    public Tensor(String dtype, long[] shape, float[] values) {
      this.dtype = dtype;
      this.shape = shape;
      this.values = values;
      this.raw = null;
    }

    public Tensor(String dtype, long[] shape, byte[] raw) {
      this.dtype = dtype;
      this.shape = shape;
      this.values = null;
      this.raw = raw;
    }

    public byte[] bytes() {
      if (raw != null) {
        return raw;
      }
      int width = dtype.equals("F32") ? 4 : 2;
      ByteBuffer b = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) {
        switch (dtype) {
          case "F32":
            b.putFloat(v);
            break;
          case "F16":
            b.putShort(Half.floatToF16(v));
            break;
          case "BF16":
            b.putShort(Half.floatToBf16(v));
            break;
          default:
            throw new IllegalArgumentException("no float conversion to " + dtype);
        }
      }
      return b.array();
    }
  }

  /** What to write. Defaults: a 2-layer (global, local) model, vocab 64, hidden 16, 2 heads, window 4. */
  public static final class Spec {
    public int vocab = 64;
    public int hidden = 16;
    public int layers = 2;
    public int heads = 2;
    public Integer intermediate = 24; // null: written as JSON null (HF default 4 * hidden)
    public int window = 4;
    public int maxPositions = 64;
    public int eos = 63;
    public String dtype = "F32";
    public boolean prefix = true;        // "transformer." before the body's keys
    public boolean lmHead = false;       // write lm_head.weight (random, not tied)
    public boolean lmHeadEqualsWte = false;
    public boolean maskBuffers = false;  // attn.attention.bias / masked_bias per layer
    public int scoreLabels = 0;          // > 0: score.weight (sequence classification)
    public int tokenLabels = 0;          // > 0: classifier.weight + bias (token classification)
    public boolean qa = false;           // qa_outputs.weight + bias
    public int shards = 1;               // > 1: model-0000i-of-0000n.safetensors + index
    public long seed = 42;

    public Spec with(java.util.function.Consumer<Spec> change) {
      change.accept(this);
      return this;
    }
  }

  public static Spec spec() {
    return new Spec();
  }

  /** The config.json of a spec, as an editable JSON object. */
  public static ObjectNode config(Spec s) {
    ObjectNode c = JSON.createObjectNode();
    c.put("model_type", "gpt_neo");
    List<String> arch = new ArrayList<>();
    arch.add("GPTNeoForCausalLM");
    if (s.scoreLabels > 0) {
      arch.add("GPTNeoForSequenceClassification");
    }
    ArrayNode a = c.putArray("architectures");
    arch.forEach(a::add);
    c.put("vocab_size", s.vocab);
    c.put("max_position_embeddings", s.maxPositions);
    c.put("hidden_size", s.hidden);
    c.put("num_layers", s.layers);
    c.put("num_heads", s.heads);
    if (s.intermediate == null) {
      c.putNull("intermediate_size");
    } else {
      c.put("intermediate_size", s.intermediate);
    }
    c.put("window_size", s.window);
    ArrayNode types = c.putArray("attention_types");
    ArrayNode pair = types.addArray();
    pair.addArray().add("global").add("local");
    pair.add(s.layers / 2);
    c.put("activation_function", "gelu_new");
    c.put("layer_norm_epsilon", 1e-5);
    c.put("bos_token_id", s.eos);
    c.put("eos_token_id", s.eos);
    int labels = Math.max(s.scoreLabels, s.tokenLabels);
    if (labels > 0) {
      ObjectNode id2label = c.putObject("id2label");
      for (int i = 0; i < labels; i++) {
        id2label.put(Integer.toString(i), "tag" + i);
      }
    }
    c.put("unknown_future_key", "ignored");
    return c;
  }

  /** The tensors of a spec, in HF's key order. */
  public static LinkedHashMap<String, Tensor> tensors(Spec s) {
    if (s.layers % 2 != 0) {
      throw new IllegalArgumentException("layers must be even (global, local pairs)");
    }
    Random rnd = new Random(s.seed);
    int d = s.hidden;
    int inter = s.intermediate == null ? 4 * d : s.intermediate;
    String p = s.prefix ? "transformer." : "";
    LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
    t.put(p + "wte.weight", random(s.dtype, rnd, s.vocab, d));
    t.put(p + "wpe.weight", random(s.dtype, rnd, s.maxPositions, d));
    for (int l = 0; l < s.layers; l++) {
      String h = p + "h." + l + ".";
      t.put(h + "ln_1.weight", around(s.dtype, rnd, 1, d));
      t.put(h + "ln_1.bias", random(s.dtype, rnd, d));
      if (s.maskBuffers) {
        byte[] mask = new byte[s.maxPositions * s.maxPositions];
        for (int i = 0; i < s.maxPositions; i++) {
          for (int j = 0; j <= i; j++) {
            mask[i * s.maxPositions + j] = 1;
          }
        }
        t.put(h + "attn.attention.bias", new Tensor("BOOL", new long[] {1, 1, s.maxPositions, s.maxPositions}, mask));
        t.put(h + "attn.attention.masked_bias", new Tensor("F32", new long[] {}, new float[] {-1e9f}));
      }
      t.put(h + "attn.attention.k_proj.weight", random(s.dtype, rnd, d, d));
      t.put(h + "attn.attention.v_proj.weight", random(s.dtype, rnd, d, d));
      t.put(h + "attn.attention.q_proj.weight", random(s.dtype, rnd, d, d));
      t.put(h + "attn.attention.out_proj.weight", random(s.dtype, rnd, d, d));
      t.put(h + "attn.attention.out_proj.bias", random(s.dtype, rnd, d));
      t.put(h + "ln_2.weight", around(s.dtype, rnd, 1, d));
      t.put(h + "ln_2.bias", random(s.dtype, rnd, d));
      t.put(h + "mlp.c_fc.weight", random(s.dtype, rnd, inter, d));
      t.put(h + "mlp.c_fc.bias", random(s.dtype, rnd, inter));
      t.put(h + "mlp.c_proj.weight", random(s.dtype, rnd, d, inter));
      t.put(h + "mlp.c_proj.bias", random(s.dtype, rnd, d));
    }
    t.put(p + "ln_f.weight", around(s.dtype, rnd, 1, d));
    t.put(p + "ln_f.bias", random(s.dtype, rnd, d));
    if (s.lmHeadEqualsWte) {
      Tensor wte = t.get(p + "wte.weight");
      t.put("lm_head.weight", new Tensor(s.dtype, wte.shape, wte.values.clone()));
    } else if (s.lmHead) {
      t.put("lm_head.weight", random(s.dtype, rnd, s.vocab, d));
    }
    if (s.scoreLabels > 0) {
      t.put("score.weight", random(s.dtype, rnd, s.scoreLabels, d));
    }
    if (s.tokenLabels > 0) {
      t.put("classifier.weight", random(s.dtype, rnd, s.tokenLabels, d));
      t.put("classifier.bias", random(s.dtype, rnd, s.tokenLabels));
    }
    if (s.qa) {
      t.put("qa_outputs.weight", random(s.dtype, rnd, 2, d));
      t.put("qa_outputs.bias", random(s.dtype, rnd, 2));
    }
    return t;
  }

  /** Writes config.json and the weights of a spec into dir (created if needed); returns dir. */
  public static Path write(Path dir, Spec s) {
    return write(dir, config(s), s);
  }

  /** Writes the given config.json (possibly edited) and the weights of a spec. */
  public static Path write(Path dir, ObjectNode config, Spec s) {
    writeConfig(dir, config);
    LinkedHashMap<String, Tensor> all = tensors(s);
    if (s.shards <= 1) {
      writeSafetensors(dir.resolve("model.safetensors"), all);
      return dir;
    }
    List<LinkedHashMap<String, Tensor>> parts = new ArrayList<>();
    for (int i = 0; i < s.shards; i++) {
      parts.add(new LinkedHashMap<>());
    }
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", 0);
    ObjectNode map = index.putObject("weight_map");
    int i = 0;
    for (Map.Entry<String, Tensor> e : all.entrySet()) {
      int shard = i++ * s.shards / all.size();
      parts.get(shard).put(e.getKey(), e.getValue());
      map.put(e.getKey(), shardName(shard, s.shards));
    }
    for (int k = 0; k < s.shards; k++) {
      writeSafetensors(dir.resolve(shardName(k, s.shards)), parts.get(k));
    }
    writeString(dir.resolve("model.safetensors.index.json"), index.toPrettyString());
    return dir;
  }

  public static String shardName(int i, int n) {
    return String.format("model-%05d-of-%05d.safetensors", i + 1, n);
  }

  public static void writeConfig(Path dir, ObjectNode config) {
    writeString(dir.resolve("config.json"), config.toPrettyString());
  }

  /** A safetensors file: the 8-byte header length, the JSON header, then the tensors' bytes in order. */
  public static void writeSafetensors(Path file, Map<String, Tensor> tensors) {
    ObjectNode header = JSON.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    List<byte[]> blobs = new ArrayList<>();
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      byte[] b = t.bytes();
      ObjectNode o = header.putObject(e.getKey());
      o.put("dtype", t.dtype);
      ArrayNode shape = o.putArray("shape");
      for (long dim : t.shape) {
        shape.add(dim);
      }
      o.putArray("data_offsets").add(offset).add(offset + b.length);
      offset += b.length;
      blobs.add(b);
    }
    byte[] data = new byte[Math.toIntExact(offset)];
    int at = 0;
    for (byte[] b : blobs) {
      System.arraycopy(b, 0, data, at, b.length);
      at += b.length;
    }
    writeRaw(file, header.toString(), data);
  }

  /** A safetensors file with the given header text (its true length) and data bytes. */
  public static void writeRaw(Path file, String headerJson, byte[] data) {
    byte[] h = headerJson.getBytes(StandardCharsets.UTF_8);
    writeRaw(file, h.length, h, data);
  }

  /** A safetensors file whose length field may lie about the header. */
  public static void writeRaw(Path file, long headerLength, byte[] header, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(headerLength).put(header).put(data);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, b.array());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies the tokenizer files (tokenizer.json, or vocab.json + merges.txt) of one folder into another. */
  public static void copyTokenizer(Path from, Path to) {
    try {
      Files.createDirectories(to);
      for (String f : new String[] {"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json",
          "special_tokens_map.json"}) {
        if (Files.isRegularFile(from.resolve(f))) {
          Files.copy(from.resolve(f), to.resolve(f));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies a model folder's config.json and weights (not its tokenizer), e.g. to edit the config. */
  public static Path copyModel(Path from, Path to) {
    try {
      Files.createDirectories(to);
      try (var files = Files.list(from)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          String name = f.getFileName().toString();
          if (name.equals("config.json") || name.endsWith(".safetensors") || name.endsWith(".index.json")) {
            Files.copy(f, to.resolve(name));
          }
        }
      }
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a folder's config.json for editing. */
  public static ObjectNode readConfig(Path dir) {
    try {
      return (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static void writeString(Path file, String text) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Tensor random(String dtype, Random rnd, int... shape) {
    return fill(dtype, rnd, 0, 0.5f, shape);
  }

  private static Tensor around(String dtype, Random rnd, float center, int... shape) {
    return fill(dtype, rnd, center, 0.25f, shape);
  }

  /** center + k/64 with |k/64| <= spread: exact in F16 and BF16. */
  private static Tensor fill(String dtype, Random rnd, float center, float spread, int... shape) {
    int n = 1;
    long[] s = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      n *= shape[i];
      s[i] = shape[i];
    }
    int steps = (int) (spread * 64);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = center + (rnd.nextInt(2 * steps + 1) - steps) / 64f;
    }
    return new Tensor(dtype, s, v);
  }
}
