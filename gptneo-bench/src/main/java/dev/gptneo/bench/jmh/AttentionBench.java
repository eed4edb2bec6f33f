package dev.gptneo.bench.jmh;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code Ops.attention} with GPT-Neo-125M's shape (12 heads of 64, window 256), one sequence:
 * prefill = 512 new tokens on an empty cache; decode = 1 new token after 1023 cached ones. A
 * global layer sees every earlier key, a local layer at most 256 (and should skip the rest, so
 * local must be faster where the context passes the window).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttentionBench {
  @Param({"vector", "scalar"})
  public String kernels;

  @Param({"prefill512", "decode1024"})
  public String mode;

  @Param({"global", "local"})
  public String layer;

  @Param({"1"})
  public int threads;

  private static final int HIDDEN = 768;
  private static final int HEADS = 12;
  private static final int WINDOW = 256;

  private OpsFixture f;
  private Step step;
  private Ops.Activations qkv;
  private Ops.Activations out;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    f = new OpsFixture(kernels, "packed", threads);
    boolean decode = mode.startsWith("decode");
    int context = decode ? 1024 : 512;
    GptNeoConfig config = OpsFixture.config(HIDDEN, HEADS, context, WINDOW);
    SequenceCache cache = f.cache(config, context);
    if (decode) { // fill the cache with 1023 tokens, then time the 1024th
      Step prompt = new Step(context - 1, 1);
      prompt.add(cache, new int[context - 1], 0, context - 1);
      Ops.Activations pq = f.randomActivations(context - 1, 3 * HIDDEN);
      Ops.Activations po = f.ops.activations(context - 1, HIDDEN);
      for (int l = 0; l < 2; l++) {
        f.ops.attention(prompt, l, l == 1, WINDOW, HEADS, pq, po);
      }
      f.ops.commit(prompt);
    }
    int tokens = decode ? 1 : context;
    step = new Step(tokens, 1);
    step.add(cache, new int[tokens], 0, tokens); // never committed: every call sees the same cache
    qkv = f.randomActivations(tokens, 3 * HIDDEN);
    out = f.ops.activations(tokens, HIDDEN);
  }

  @Benchmark
  public Ops.Activations attention() {
    boolean local = layer.equals("local");
    f.ops.attention(step, local ? 1 : 0, local, WINDOW, HEADS, qkv, out);
    return out;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    f.close();
  }
}
