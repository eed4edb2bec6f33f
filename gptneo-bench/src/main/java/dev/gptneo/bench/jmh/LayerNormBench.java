package dev.gptneo.bench.jmh;

import dev.gptneo.engine.ops.Ops;
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

/** {@code Ops.layerNorm} over rows of GPT-Neo-125M's hidden size (768). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LayerNormBench {
  @Param({"vector", "scalar"})
  public String kernels;

  @Param({"1", "256"})
  public int rows;

  @Param({"768"})
  public int hidden;

  @Param({"1"})
  public int threads;

  private OpsFixture f;
  private Ops.Activations x;
  private Ops.Activations out;
  private Ops.Vector gamma;
  private Ops.Vector beta;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    f = new OpsFixture(kernels, "packed", threads);
    x = f.randomActivations(rows, hidden);
    out = f.ops.activations(rows, hidden);
    gamma = f.vector(hidden, 1);
    beta = f.vector(hidden, 2);
  }

  @Benchmark
  public Ops.Activations layerNorm() {
    f.ops.layerNorm(x, gamma, beta, 1e-5f, out, rows);
    return out;
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    f.close();
  }
}
