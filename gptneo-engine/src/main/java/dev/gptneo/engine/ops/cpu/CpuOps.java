package dev.gptneo.engine.ops.cpu;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.ops.LogSoftmax;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.ops.TokenTargets;
import dev.gptneo.engine.weights.TensorView;

/** The CPU backend: heap activations, mapped weights, one {@link ComputePool} for all parallel work. */
public final class CpuOps implements Ops {
  /** Output features per linear task; a multiple of every vector width. */
  private static final int MIN_COLS_PER_TASK = 64;

  private final CpuKernels kernels;
  private final ComputePool pool;
  private final boolean ownsPool;
  private final boolean packWeights;

  CpuOps(CpuKernels kernels, ComputePool pool, boolean ownsPool, boolean packWeights) {
    this.kernels = kernels;
    this.pool = pool;
    this.ownsPool = ownsPool;
    this.packWeights = packWeights;
  }

  /**
   * A CPU backend. AUTO takes the Vector API kernels when the JVM has the incubator module
   * ({@code --add-modules jdk.incubator.vector}), else the scalar reference.
   */
  public static CpuOps create(dev.gptneo.engine.api.EngineOptions.Kernels kind, int threads, boolean packWeights) {
    switch (kind) {
      case SCALAR:
        return new CpuOps(new ScalarKernels(), ComputePool.shared(threads), false, false);
      case VECTOR:
        if (!VectorSupport.available()) {
          throw new IllegalStateException("vector kernels need the JVM flag --add-modules jdk.incubator.vector");
        }
        return new CpuOps(VectorSupport.kernels(), ComputePool.shared(threads), false, packWeights);
      default:
        return VectorSupport.available()
            ? new CpuOps(VectorSupport.kernels(), ComputePool.shared(threads), false, packWeights)
            : new CpuOps(new ScalarKernels(), ComputePool.shared(threads), false, false);
    }
  }

  /** A backend over the plain reference kernels. */
  public static CpuOps scalar(int threads) {
    return new CpuOps(new ScalarKernels(), new ComputePool(threads), true, false);
  }

  @Override
  public String name() {
    return "cpu-" + kernels.name() + "(threads=" + pool.threads() + ", weights="
        + (packWeights ? "packed on heap" : "memory-mapped") + ")";
  }

  public int threads() {
    return pool.threads();
  }

  @Override
  public Matrix matrix(TensorView... stacked) {
    CpuMatrix m = new CpuMatrix(stacked);
    kernels.prepare(m, packWeights);
    return m;
  }

  @Override
  public Vector vector(TensorView weight) {
    return new CpuVector(weight.toFloatArray());
  }

  @Override
  public Activations activations(int rows, int cols) {
    return new CpuActivations(rows, cols);
  }

  @Override
  public SequenceCache newSequenceCache(GptNeoConfig config, int capacityTokens) {
    return new CpuSequenceCache(config, capacityTokens);
  }

  @Override
  public boolean copiesCaches() {
    return true;
  }

  @Override
  public void copyCache(SequenceCache from, SequenceCache to) {
    ((CpuSequenceCache) to).copyFrom((CpuSequenceCache) from);
  }

  @Override
  public void embed(Step step, Matrix wte, Matrix wpe, Activations out) {
    CpuMatrix te = (CpuMatrix) wte;
    CpuMatrix pe = (CpuMatrix) wpe;
    float[] o = ((CpuActivations) out).data; // (tokens, hidden)
    int d = te.cols;
    float[] posRow = new float[d];
    for (int t = 0; t < step.numTokens; t++) {
      te.readRow(step.tokenIds[t], o, t * d);
      pe.readRow(step.positions[t], posRow, 0);
      for (int i = 0; i < d; i++) {
        o[t * d + i] += posRow[i];
      }
    }
  }

  @Override
  public void layerNorm(Activations x, Vector gamma, Vector beta, float eps, Activations out, int rows) {
    float[] xs = ((CpuActivations) x).data;
    float[] os = ((CpuActivations) out).data;
    float[] g = ((CpuVector) gamma).data;
    float[] b = ((CpuVector) beta).data;
    int d = x.cols();
    int perTask = Math.max(1, (rows + 4 * pool.threads() - 1) / (4 * pool.threads()));
    int tasks = (rows + perTask - 1) / perTask;
    pool.parallelFor(tasks, task -> {
      kernels.layerNorm(xs, task * perTask, Math.min(rows, (task + 1) * perTask), d, g, b, eps, os);
    });
  }

  @Override
  public void linear(Activations x, Matrix w, Vector bias, Activations out, int rows, Epilogue epilogue) {
    CpuMatrix m = (CpuMatrix) w;
    float[] xs = ((CpuActivations) x).data;
    float[] os = ((CpuActivations) out).data;
    float[] b = bias == null ? null : ((CpuVector) bias).data;
    assert x.cols() == m.cols && out.cols() == m.rows : m.name + ": shape mismatch";
    int n = m.rows;
    int tasks = Math.max(1, Math.min(4 * pool.threads(), n / MIN_COLS_PER_TASK));
    int perTask = roundUp((n + tasks - 1) / tasks, Math.max(16, kernels.columnAlignment(n)));
    int realTasks = (n + perTask - 1) / perTask;
    pool.parallelFor(realTasks, task -> {
      int n0 = task * perTask;
      kernels.linear(xs, rows, m, n0, Math.min(n, n0 + perTask), b, os, epilogue);
    });
  }

  @Override
  public void attention(Step step, int layer, boolean local, int window, int numHeads, Activations qkv,
      Activations out) {
    float[] qkvs = ((CpuActivations) qkv).data;
    float[] os = ((CpuActivations) out).data;
    int hidden = out.cols();
    int headDim = hidden / numHeads;
    pool.parallelFor(step.numSeqs * numHeads, task -> CpuAttention.attendHead(kernels, step, task / numHeads,
        task % numHeads, layer, local, window, headDim, hidden, qkvs, os));
    pool.parallelFor(step.numSeqs, seq -> CpuAttention.store(step, seq, layer, hidden, headDim, qkvs));
  }

  @Override
  public void commit(Step step) {
    for (int s = 0; s < step.numSeqs; s++) {
      ((CpuSequenceCache) step.caches[s]).length += step.newTokens(s);
    }
  }

  @Override
  public void gatherRows(Activations src, int[] rows, int count, Activations dst) {
    float[] s = ((CpuActivations) src).data;
    float[] d = ((CpuActivations) dst).data;
    int cols = src.cols();
    for (int i = 0; i < count; i++) {
      System.arraycopy(s, rows[i] * cols, d, i * cols, cols);
    }
  }

  /** Scores on the pool, a row a task, in the host's own arithmetic ({@link LogSoftmax}): the same bits. */
  @Override
  public boolean scoresTokens() {
    return true;
  }

  @Override
  public void tokenLogprobs(Activations logits, TokenTargets targets, double[] dst) {
    float[] l = ((CpuActivations) logits).data;
    int vocab = logits.cols();
    pool.parallelFor(targets.rows(), r -> LogSoftmax.logProbs(l, r * vocab, vocab, targets, r, dst));
  }

  @Override
  public void forEachTask(int n, java.util.function.IntConsumer task) {
    pool.parallelFor(n, task);
  }

  @Override
  public void read(Activations x, int rows, float[] dst) {
    System.arraycopy(((CpuActivations) x).data, 0, dst, 0, rows * x.cols());
  }

  @Override
  public void close() {
    if (ownsPool) {
      pool.close();
    }
  }

  private static int roundUp(int v, int multiple) {
    return (v + multiple - 1) / multiple * multiple;
  }
}
