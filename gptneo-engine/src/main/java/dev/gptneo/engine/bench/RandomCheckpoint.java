package dev.gptneo.engine.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gptneo.engine.ModelException;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.Half;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Random-weight GPT-Neo checkpoints of the real sizes, written as a Hugging Face folder:
 * {@code config.json} (model_type gpt_neo) and {@code model.safetensors} with {@code transformer.*}
 * keys, no {@code lm_head.weight} (tied to wte) and a 2-label {@code score.weight}, so generate,
 * embed and classify all run. Weights are N(0, 0.02), layer-norm gains 1, biases 0, from a fixed
 * seed; the values do not change speed. The file is streamed to disk, never held in memory.
 *
 * <p>{@link #ensure} caches the folder under {@code ${GPTNEO_BENCH_CACHE:-~/.cache/gptneo/bench}/<size>-<dtype>}
 * and reuses it while its marker file matches.
 */
public final class RandomCheckpoint {
  public static final long DEFAULT_SEED = 0x6e656f2d62656e63L;
  public static final int SCORE_LABELS = 2;
  static final int FORMAT_VERSION = 1;
  static final String MARKER = ".gptneo-bench.json";
  static final float STD = 0.02f;
  /** The GPT-2 tokenizer files copied next to a 50257-token checkpoint when a source folder is found. */
  static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "vocab.json", "merges.txt",
      "tokenizer_config.json", "special_tokens_map.json");

  private RandomCheckpoint() {}

  /** {@code $GPTNEO_BENCH_CACHE}, else {@code -Dgptneo.bench.cache}, else {@code ~/.cache/gptneo/bench}. */
  public static Path defaultCacheDir() {
    String env = System.getenv("GPTNEO_BENCH_CACHE");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    String prop = System.getProperty("gptneo.bench.cache");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "gptneo", "bench");
  }

  /** The folder name of a size and dtype in the cache, e.g. {@code 125M-f32}. */
  public static String folderName(ModelSize size, DType dtype) {
    return size.name + "-" + dtype.name().toLowerCase(Locale.ROOT);
  }

  /**
   * The cached checkpoint of this size and dtype, generated first when it is missing or stale.
   *
   * @param tokenizerSource a folder with GPT-2 tokenizer files to copy in (may be null)
   * @param log progress lines (stderr)
   */
  public static Path ensure(ModelSize size, DType dtype, Path cacheDir, Path tokenizerSource, PrintStream log) {
    Path dir = cacheDir.resolve(folderName(size, dtype));
    if (isComplete(dir, size, dtype, DEFAULT_SEED)) {
      return dir;
    }
    Path tmp = cacheDir.resolve(folderName(size, dtype) + ".tmp-" + ProcessHandle.current().pid());
    try {
      Files.createDirectories(cacheDir);
      checkFreeSpace(cacheDir, SafetensorsWriter.fileSize(tensors(size, dtype, DEFAULT_SEED), metadata()), size, dtype);
      deleteTree(tmp);
      write(tmp, size, dtype, DEFAULT_SEED, tokenizerSource, log);
      if (isComplete(dir, size, dtype, DEFAULT_SEED)) { // another process won the race
        deleteTree(tmp);
        return dir;
      }
      deleteTree(dir);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      return dir;
    } catch (RuntimeException e) {
      deleteQuietly(tmp);
      throw e;
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new ModelException("cannot write the random " + size.name + " checkpoint under " + cacheDir + ": "
          + e.getMessage() + " (set GPTNEO_BENCH_CACHE to a writable folder with enough space)", e);
    }
  }

  /** Bytes the checkpoint takes on disk (the safetensors file; config and tokenizer are small). */
  public static long fileBytes(ModelSize size, DType dtype) {
    return SafetensorsWriter.fileSize(tensors(size, dtype, DEFAULT_SEED), metadata());
  }

  /**
   * Writes the folder {@code dir} (created; files in it are replaced). Fails before writing when
   * the disk has too little free space.
   */
  public static void write(Path dir, ModelSize size, DType dtype, long seed, Path tokenizerSource, PrintStream log)
      throws IOException {
    if (!dtype.isFloatWeight()) {
      throw new IllegalArgumentException("dtype must be F32, F16 or BF16, got " + dtype);
    }
    Files.createDirectories(dir);
    List<SafetensorsWriter.Tensor> tensors = tensors(size, dtype, seed);
    long bytes = SafetensorsWriter.fileSize(tensors, metadata());
    checkFreeSpace(dir, bytes, size, dtype);
    long t0 = System.nanoTime();
    if (log != null) {
      log.printf(Locale.ROOT, "bench: writing random %s %s weights (%.2f GB, %d parameters) to %s%n", size.name,
          dtype, bytes / 1e9, size.parameters(SCORE_LABELS), dir);
    }
    Files.writeString(dir.resolve("config.json"), configJson(size, dtype));
    long[] lastReport = {System.nanoTime()};
    SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, metadata(), done -> {
      if (log != null && System.nanoTime() - lastReport[0] > 5_000_000_000L) {
        lastReport[0] = System.nanoTime();
        log.printf(Locale.ROOT, "bench:   %.1f of %.1f GB%n", done / 1e9, bytes / 1e9);
      }
    });
    if (tokenizerSource != null && size.vocab == 50257) {
      for (String f : TOKENIZER_FILES) {
        Path src = tokenizerSource.resolve(f);
        if (Files.isRegularFile(src)) {
          Files.copy(src, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Files.writeString(dir.resolve(MARKER), marker(size, dtype, seed, bytes).toString());
    if (log != null) {
      log.printf(Locale.ROOT, "bench: wrote %s in %.1f s%n", dir, (System.nanoTime() - t0) / 1e9);
    }
  }

  static boolean isComplete(Path dir, ModelSize size, DType dtype, long seed) {
    Path marker = dir.resolve(MARKER);
    Path file = dir.resolve("model.safetensors");
    if (!Files.isRegularFile(marker) || !Files.isRegularFile(file) || !Files.isRegularFile(dir.resolve("config.json"))) {
      return false;
    }
    try {
      JsonNode found = new ObjectMapper().readTree(Files.readString(marker));
      long bytes = SafetensorsWriter.fileSize(tensors(size, dtype, seed), metadata());
      return marker(size, dtype, seed, bytes).toString().equals(String.valueOf(found)) && Files.size(file) == bytes;
    } catch (IOException e) {
      return false;
    }
  }

  private static ObjectNode marker(ModelSize size, DType dtype, long seed, long bytes) {
    ObjectNode m = new ObjectMapper().createObjectNode();
    m.put("format", FORMAT_VERSION);
    m.put("size", size.toString());
    m.put("dtype", dtype.name());
    m.put("seed", seed);
    m.put("bytes", bytes);
    return m;
  }

  private static void checkFreeSpace(Path dir, long bytes, ModelSize size, DType dtype) throws IOException {
    FileStore store = Files.getFileStore(dir);
    long free = store.getUsableSpace();
    long needed = bytes + (64L << 20);
    if (free < needed) {
      throw new ModelException(String.format(Locale.ROOT,
          "not enough disk space for the random %s %s checkpoint: it needs %.2f GB in %s, and only %.2f GB are"
              + " free. Free some space, pick a 16-bit --dtype (half the size), or set GPTNEO_BENCH_CACHE to"
              + " a folder on a larger disk.", size.name, dtype.name().toLowerCase(Locale.ROOT), needed / 1e9, dir,
          free / 1e9));
    }
  }

  static Map<String, String> metadata() {
    return Map.of("format", "pt");
  }

  /** A Hugging Face GPT-Neo config.json for the size. */
  public static String configJson(ModelSize size, DType dtype) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = json.createObjectNode();
    c.put("activation_function", "gelu_new");
    c.putArray("architectures").add("GPTNeoForCausalLM");
    c.put("attention_dropout", 0.0);
    c.putArray("attention_types").addArray().add(json.createArrayNode().add("global").add("local"))
        .add(size.layers / 2);
    int eos = size.vocab - 1;
    c.put("bos_token_id", eos);
    c.put("eos_token_id", eos);
    c.put("pad_token_id", eos);
    c.put("embed_dropout", 0.0);
    c.put("hidden_size", size.hidden);
    ObjectNode id2label = c.putObject("id2label");
    ObjectNode label2id = c.putObject("label2id");
    for (int i = 0; i < SCORE_LABELS; i++) {
      id2label.put(Integer.toString(i), "LABEL_" + i);
      label2id.put("LABEL_" + i, i);
    }
    c.put("initializer_range", STD);
    c.put("intermediate_size", size.intermediate);
    c.put("layer_norm_epsilon", 1e-5);
    c.put("max_position_embeddings", size.maxPositions);
    c.put("model_type", "gpt_neo");
    c.put("num_heads", size.heads);
    c.put("num_layers", size.layers);
    c.put("resid_dropout", 0.0);
    c.put("torch_dtype", dtype == DType.F32 ? "float32" : dtype == DType.F16 ? "float16" : "bfloat16");
    c.put("use_cache", true);
    c.put("vocab_size", size.vocab);
    c.put("window_size", size.window);
    c.put("_comment", "random weights written by bin/gptneo bench (seeded; for speed measurements only)");
    try {
      return json.writerWithDefaultPrettyPrinter().writeValueAsString(c) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The checkpoint's tensors, in the order they are written (HF names, F32/F16/BF16 throughout). */
  static List<SafetensorsWriter.Tensor> tensors(ModelSize s, DType dtype, long seed) {
    List<SafetensorsWriter.Tensor> out = new ArrayList<>();
    long d = s.hidden;
    out.add(normal("transformer.wte.weight", dtype, seed, s.vocab, d));
    out.add(normal("transformer.wpe.weight", dtype, seed, s.maxPositions, d));
    for (int i = 0; i < s.layers; i++) {
      String p = "transformer.h." + i + ".";
      out.add(constant(p + "ln_1.weight", dtype, 1f, d));
      out.add(constant(p + "ln_1.bias", dtype, 0f, d));
      out.add(normal(p + "attn.attention.q_proj.weight", dtype, seed, d, d));
      out.add(normal(p + "attn.attention.k_proj.weight", dtype, seed, d, d));
      out.add(normal(p + "attn.attention.v_proj.weight", dtype, seed, d, d));
      out.add(normal(p + "attn.attention.out_proj.weight", dtype, seed, d, d));
      out.add(constant(p + "attn.attention.out_proj.bias", dtype, 0f, d));
      out.add(constant(p + "ln_2.weight", dtype, 1f, d));
      out.add(constant(p + "ln_2.bias", dtype, 0f, d));
      out.add(normal(p + "mlp.c_fc.weight", dtype, seed, s.intermediate, d));
      out.add(constant(p + "mlp.c_fc.bias", dtype, 0f, s.intermediate));
      out.add(normal(p + "mlp.c_proj.weight", dtype, seed, d, s.intermediate));
      out.add(constant(p + "mlp.c_proj.bias", dtype, 0f, d));
    }
    out.add(constant("transformer.ln_f.weight", dtype, 1f, d));
    out.add(constant("transformer.ln_f.bias", dtype, 0f, d));
    out.add(normal("score.weight", dtype, seed, SCORE_LABELS, d));
    return out;
  }

  private static SafetensorsWriter.Tensor constant(String name, DType dtype, float value, long... shape) {
    return new SafetensorsWriter.Tensor(name, dtype, shape, () -> (out, count) -> {
      for (int i = 0; i < count; i++) {
        put(out, dtype, value);
      }
    });
  }

  private static SafetensorsWriter.Tensor normal(String name, DType dtype, long seed, long... shape) {
    long tensorSeed = seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L);
    return new SafetensorsWriter.Tensor(name, dtype, shape, () -> new NormalSource(dtype, tensorSeed));
  }

  private static void put(ByteBuffer out, DType dtype, float v) {
    switch (dtype) {
      case F32:
        out.putFloat(v);
        break;
      case F16:
        out.putShort(Half.floatToF16(v));
        break;
      default:
        out.putShort(Half.floatToBf16(v));
    }
  }

  /**
   * N(0, STD) values: each element picks one of 65,536 precomputed normal samples (already
   * converted to the dtype) with 16 bits of a seeded generator, so writing gigabytes is fast.
   */
  static final class NormalSource implements SafetensorsWriter.Source {
    private static final int TABLE_BITS = 16;
    private static final float[] F32 = new float[1 << TABLE_BITS];
    private static final short[] F16 = new short[1 << TABLE_BITS];
    private static final short[] BF16 = new short[1 << TABLE_BITS];

    static {
      SplittableRandom r = new SplittableRandom(12345);
      for (int i = 0; i < F32.length; i++) {
        float v = (float) (gaussian(r) * STD);
        F32[i] = v;
        F16[i] = Half.floatToF16(v);
        BF16[i] = Half.floatToBf16(v);
      }
    }

    private final DType dtype;
    private final SplittableRandom rng;

    NormalSource(DType dtype, long seed) {
      this.dtype = dtype;
      this.rng = new SplittableRandom(seed);
    }

    @Override
    public void next(ByteBuffer out, int count) {
      int i = 0;
      if (dtype == DType.F32) {
        while (i < count) {
          long bits = rng.nextLong();
          for (int j = 0; j < 4 && i < count; j++, i++, bits >>>= TABLE_BITS) {
            out.putFloat(F32[(int) (bits & 0xffff)]);
          }
        }
      } else {
        short[] table = dtype == DType.F16 ? F16 : BF16;
        while (i < count) {
          long bits = rng.nextLong();
          for (int j = 0; j < 4 && i < count; j++, i++, bits >>>= TABLE_BITS) {
            out.putShort(table[(int) (bits & 0xffff)]);
          }
        }
      }
    }

    private static double gaussian(SplittableRandom r) { // Box-Muller
      double u1 = r.nextDouble();
      double u2 = r.nextDouble();
      return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException ignored) {
      // best effort
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
