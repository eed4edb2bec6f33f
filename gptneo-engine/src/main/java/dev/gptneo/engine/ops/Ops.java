package dev.gptneo.engine.ops;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.weights.TensorView;

/**
 * The few operations a GPT-Neo forward pass needs. A backend (CPU scalar reference, CPU Vector
 * API, CUDA) implements them on its own memory; {@code model.GptNeoModel} orchestrates them.
 * Buffers are opaque handles owned by the backend.
 */
public interface Ops extends AutoCloseable {
  /** A weight matrix in Hugging Face's [out, in] layout, prepared for this backend. */
  interface Matrix {
    int rows(); // out features

    int cols(); // in features
  }

  /** A weight vector (bias, layer-norm gain). */
  interface Vector {
    int size();
  }

  /** fp32 activations, (rows, cols) row-major; {@code rows} is a capacity, calls say how many are valid. */
  interface Activations {
    int rows();

    int cols();
  }

  /** A short description, e.g. "cpu-vector(threads=2, f32 512-bit)"; logged at startup. */
  String name();

  /** One weight, or several of the same shape stacked along the out dimension (q, k, v as one). */
  Matrix matrix(TensorView... stacked);

  Vector vector(TensorView weight);

  Activations activations(int rows, int cols);

  /**
   * Activations that only linear layers read (the MLP's hidden layer): a backend may keep them
   * only in the precision its GEMMs read (the GPU skips their fp32 copy). Reading them any other
   * way is an error there.
   */
  default Activations linearInput(int rows, int cols) {
    return activations(rows, cols);
  }

  /**
   * Activations that only {@link #attention} reads (q|k|v): a backend may keep a step's only in the
   * precision its attention kernel reads (the GPU, for prompt steps on its tensor cores).
   */
  default Activations attentionInput(int rows, int cols) {
    return activations(rows, cols);
  }

  SequenceCache newSequenceCache(GptNeoConfig config, int capacityTokens);

  /** Whether {@link #copyCache} works here: beam search then feeds each beam only its new token. */
  default boolean copiesCaches() {
    return false;
  }

  /**
   * 0, or the tokens at whose multiples every prompt piece must end (a backend whose results depend
   * on how a prompt is cut into steps, when it promises a row the same bits whatever its batch): the
   * scheduler then cuts each prompt the same way whatever else shares its steps, and shared prompt
   * starts are shortened to such a multiple.
   */
  default int promptPieceTokens() {
    return 0;
  }

  /**
   * Whether any thread may make, copy and close sequence caches (the CPU: heap arrays). Where not
   * (the GPU, driven by one thread), the scheduler's thread does it for callers between steps.
   */
  default boolean cachesFromAnyThread() {
    return true;
  }

  /**
   * to := from, length and contents; both made here, to at least as long as from's length, neither
   * in use by a step.
   */
  default void copyCache(SequenceCache from, SequenceCache to) {
    throw new UnsupportedOperationException("this backend does not copy KV caches");
  }

  /** Bytes the KV cache of one sequence of this capacity takes here (fp32 keys and values by default). */
  default long sequenceCacheBytes(GptNeoConfig config, int capacityTokens) {
    return config.cacheSlots(capacityTokens) * config.hiddenSize * 2L * Float.BYTES;
  }

  /** Free memory of the device that holds the KV caches, or -1 when they live on the Java heap. */
  default long freeDeviceBytes() {
    return -1;
  }

  /** out[t] = wte[tokenIds[t]] + wpe[positions[t]] for the step's tokens. */
  void embed(Step step, Matrix wte, Matrix wpe, Activations out);

  /** out = layerNorm(x) * gamma + beta over each of the first {@code rows} rows. */
  void layerNorm(Activations x, Vector gamma, Vector beta, float eps, Activations out, int rows);

  /** x (rows, in) times w^T (in, out) plus bias (may be null), then the epilogue into out (rows, out). */
  void linear(Activations x, Matrix w, Vector bias, Activations out, int rows, Epilogue epilogue);

  /**
   * {@link #layerNorm} of x into normed, then {@link #linear} of normed: the layer norms before
   * attention and before the MLP. A backend may fuse the two (the GPU at batch 1, when asked); normed
   * is then left unwritten, so nothing may read it before it is written again.
   */
  default void normLinear(Activations x, Vector gamma, Vector beta, float eps, Activations normed, Matrix w,
      Vector bias, Activations out, int rows, Epilogue epilogue) {
    layerNorm(x, gamma, beta, eps, normed, rows);
    linear(normed, w, bias, out, rows, epilogue);
  }

  /**
   * Causal self-attention of the step's new tokens over their sequence's cached and new keys,
   * without 1/sqrt(head_dim) scaling, then stores the new keys and values in each sequence's cache.
   * A local layer lets position i see keys j with i - window &lt; j &lt;= i.
   * qkv: (step.numTokens, 3 * hidden) as [q | k | v], heads side by side in each;
   * out: (step.numTokens, hidden).
   */
  void attention(Step step, int layer, boolean local, int window, int numHeads, Activations qkv, Activations out);

  /**
   * Runs a step's device work, {@code body}: the forward pass from embedding to the final layer
   * norm. A backend may record it once and replay the recording for later steps of the same shape
   * (CUDA graphs), so body must do the same device work for every step of a shape and keep no
   * host-side state that differs between them.
   */
  default void run(Step step, Runnable body) {
    body.run();
  }

  /** Marks the step's new tokens as cached (after every layer has stored them). */
  void commit(Step step);

  /** dst row i = src row rows[i], for i &lt; count. */
  void gatherRows(Activations src, int[] rows, int count, Activations dst);

  /** Whether {@link #sumRows} runs here (the GPU); the CPU backend says no: callers read the rows. */
  default boolean sumsRows() {
    return false;
  }

  /**
   * Sums rows where they are, so only the sums cross to the host: sums (count, cols) gets, per
   * range i, the sum of src rows ranges[2i] .. ranges[2i + 1] - 1, added in row order in double
   * (as a host loop over read rows would).
   */
  default void sumRows(Activations src, int[] ranges, int count, double[] sums) {
    throw new UnsupportedOperationException(name() + " leaves row sums to the host");
  }

  /**
   * Runs tasks 0..n-1 of independent host work (the jobs' handling of their head rows) on the
   * backend's threads, returning when all are done: the CPU's compute pool. By default one after
   * another on the caller.
   */
  default void forEachTask(int n, java.util.function.IntConsumer task) {
    for (int i = 0; i < n; i++) {
      task.accept(i);
    }
  }

  /** Copies the first {@code rows} rows to the host, row-major. */
  void read(Activations x, int rows, float[] dst);

  /**
   * Whether {@link #chooseTokens} runs here (the GPU). The CPU backend says no: callers read the
   * logits and choose on the host (generate.GenerateJob), as before.
   */
  default boolean choosesTokens() {
    return false;
  }

  /**
   * One token per row of LM-head logits (rows, vocab), chosen as {@code choice}'s row says, where
   * the logits live: only the ids cross to the host, dst[r] for r &lt; choice.rows(), and for the
   * rows that ask ({@link TokenChoice#logprob}) the token's log-probability, logprobs[r] (NaN for
   * the others). The same choice as the host's processors and sampler on the same logits
   * (docs/GPU.md says where it can differ). The logits are overwritten.
   */
  default void chooseTokens(Activations logits, TokenChoice choice, int[] dst, double[] logprobs) {
    throw new UnsupportedOperationException(name() + " does not choose tokens; read the logits instead");
  }

  /**
   * Whether {@link #tokenLogprobs} runs here (the GPU). The CPU backend says no: callers read the
   * logits and take log-probabilities on the host.
   */
  default boolean scoresTokens() {
    return false;
  }

  /**
   * Log-probabilities of the listed tokens in each row of LM-head logits (rows, vocab), where the
   * logits live: dst[i] for target i of {@code targets} (row r's are from(r)..to(r)), as
   * LogitsProcessors.logProb on the host up to the order of its sum. Only they cross to the host.
   */
  default void tokenLogprobs(Activations logits, TokenTargets targets, double[] dst) {
    throw new UnsupportedOperationException(name() + " does not score tokens; read the logits instead");
  }

  /**
   * Whether {@link #rankTokens} runs here (the GPU). The CPU backend says no: beam search reads the
   * logits and ranks them on the host (generate.BeamSearch).
   */
  default boolean ranksTokens() {
    return false;
  }

  /**
   * The best continuations of each ranked row ({@link TokenChoice#addRanked}: a running beam) of
   * LM-head logits (rows, vocab), where the logits live: fp32 log-softmax, the row's biases,
   * repetition penalty and bans on the log-probabilities, plus its beam score; then its top_k values,
   * largest first, equal values in id order (BeamSearch's ranking). Row r's are scores and ids
   * [r * maxTopK(), r * maxTopK() + topK(r)). Only they cross to the host; the logits are overwritten.
   */
  default void rankTokens(Activations logits, TokenChoice choice, float[] scores, int[] ids) {
    throw new UnsupportedOperationException(name() + " does not rank tokens; read the logits instead");
  }

  @Override
  void close();
}
