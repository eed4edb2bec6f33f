package dev.gptneo.bench.jmh;

import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.weights.DType;
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
 * {@code Ops.linear}: x (m, in) times W^T, W [out, in] as in GPT-Neo-125M's MLP (fc 3072x768,
 * proj 768x3072). m = 1 is batch-1 decode (bandwidth bound: every weight read once per row),
 * m = 32 batched decode (each panel's first pass waits for DRAM, the other three hit the cache),
 * m = 256 a prefill chunk (compute bound). GFLOP/s = 2 m in out / time.
 *
 * <p>For m &lt;= 32 each call takes the next of several copies of W that together are larger than
 * {@link #COLD_BYTES}, so the weights come from DRAM as in a real decode step (one 9 MB matrix alone
 * would stay in the 32 MB L3 and measure the cache); bytes/s = out x in x bytes per weight / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LinearBench {
  @Param({"vector", "scalar"})
  public String kernels;

  @Param({"packed", "mapped"})
  public String weights;

  @Param({"1", "32", "256"})
  public int m;

  /** out x in */
  @Param({"3072x768", "768x3072"})
  public String shape;

  @Param({"F32", "BF16"})
  public String dtype;

  @Param({"1"})
  public int threads;

  /** Weights a decode benchmark cycles through: several times the last-level cache. */
  static final long COLD_BYTES = 256L << 20;

  private OpsFixture f;
  private Ops.Matrix[] ws;
  private int next;
  private Ops.Activations x;
  private Ops.Activations out;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    String[] s = shape.split("x");
    int outDim = Integer.parseInt(s[0]);
    int inDim = Integer.parseInt(s[1]);
    f = new OpsFixture(kernels, weights, threads);
    DType d = DType.valueOf(dtype);
    long bytes = (long) outDim * inDim * d.bytes;
    int copies = m <= 32 ? (int) Math.max(1, (COLD_BYTES + bytes - 1) / bytes) : 1; // decode: weights from DRAM
    ws = new Ops.Matrix[copies];
    for (int i = 0; i < copies; i++) {
      ws[i] = f.matrix(outDim, inDim, d);
    }
    x = f.randomActivations(m, inDim);
    out = f.ops.activations(m, outDim);
  }

  @Benchmark
  public Ops.Activations linear() {
    Ops.Matrix w = ws[next];
    next = next + 1 == ws.length ? 0 : next + 1;
    f.ops.linear(x, w, null, out, m, Epilogue.STORE);
    return out;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    f.close();
  }
}
