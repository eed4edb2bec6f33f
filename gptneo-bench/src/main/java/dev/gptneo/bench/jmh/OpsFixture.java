package dev.gptneo.bench.jmh;

import dev.gptneo.engine.api.EngineOptions;
import dev.gptneo.engine.bench.SafetensorsWriter;
import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.ops.cpu.CpuOps;
import dev.gptneo.engine.weights.DType;
import dev.gptneo.engine.weights.Half;
import dev.gptneo.engine.weights.SafetensorsFile;
import dev.gptneo.engine.weights.TensorView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Everything the JMH benchmarks need from the engine, through its public {@link Ops} interface
 * only, in one place (the kernels behind it change; this file is the one to adapt): a CPU
 * backend, random weight matrices (written to a temporary safetensors file and memory-mapped, as
 * the engine loads them), and activations filled with random values.
 */
final class OpsFixture implements AutoCloseable {
  final Ops ops;
  private final Path dir;
  private final List<SequenceCache> caches = new ArrayList<>();

  /**
   * @param kernels auto, vector or scalar
   * @param weights packed (a packed copy on the heap) or mapped (read from the mapped file)
   */
  OpsFixture(String kernels, String weights, int threads) throws IOException {
    EngineOptions.Kernels k = EngineOptions.Kernels.valueOf(kernels.toUpperCase(java.util.Locale.ROOT));
    this.ops = CpuOps.create(k, threads, weights.equals("packed"));
    this.dir = Files.createTempDirectory("gptneo-jmh");
  }

  /** A random N(0, 0.02) [rows, cols] weight of the dtype, prepared by the backend. */
  Ops.Matrix matrix(int rows, int cols, DType dtype) throws IOException {
    return ops.matrix(tensor("w", new long[] {rows, cols}, dtype, 7));
  }

  /** A weight vector (layer-norm gain or bias) of random values. */
  Ops.Vector vector(int size, long seed) throws IOException {
    return ops.vector(tensor("v", new long[] {size}, DType.F32, seed));
  }

  /** Activations of {@code rows} x {@code cols} random values: the embedding of random tokens. */
  Ops.Activations randomActivations(int rows, int cols) throws IOException {
    Ops.Matrix wte = ops.matrix(tensor("wte", new long[] {rows, cols}, DType.F32, 1));
    Ops.Matrix wpe = ops.matrix(tensor("wpe", new long[] {rows, cols}, DType.F32, 2));
    GptNeoConfig c = config(cols, 1, rows, 1);
    Step step = new Step(rows, 1);
    int[] ids = new int[rows];
    for (int i = 0; i < rows; i++) {
      ids[i] = i;
    }
    step.add(cache(c, rows), ids, 0, rows);
    Ops.Activations x = ops.activations(rows, cols);
    ops.embed(step, wte, wpe, x);
    return x;
  }

  /** A KV cache of one sequence for {@code config}. */
  SequenceCache cache(GptNeoConfig config, int capacity) {
    SequenceCache c = ops.newSequenceCache(config, capacity);
    caches.add(c);
    return c;
  }

  /** A GPT-Neo config: layer 0 global, layer 1 local (window), as the real models alternate. */
  static GptNeoConfig config(int hidden, int heads, int maxPositions, int window) {
    return GptNeoConfig.parse("{\"model_type\": \"gpt_neo\", \"hidden_size\": " + hidden + ", \"num_heads\": " + heads
        + ", \"num_layers\": 2, \"attention_types\": [[[\"global\", \"local\"], 1]], \"window_size\": " + window
        + ", \"max_position_embeddings\": " + maxPositions + ", \"vocab_size\": " + maxPositions + "}", "jmh");
  }

  private TensorView tensor(String name, long[] shape, DType dtype, long seed) throws IOException {
    Path file = dir.resolve(name + "-" + dtype + "-" + System.nanoTime() + ".safetensors");
    SplittableRandom r = new SplittableRandom(seed);
    SafetensorsWriter.write(file, List.of(new SafetensorsWriter.Tensor(name, dtype, shape,
        () -> (out, count) -> {
          for (int i = 0; i < count; i++) {
            float v = (float) (r.nextGaussian() * 0.02);
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
        })), Map.of(), null);
    return SafetensorsFile.open(file).get(name);
  }

  @Override
  public void close() throws IOException {
    caches.forEach(SequenceCache::close);
    ops.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
