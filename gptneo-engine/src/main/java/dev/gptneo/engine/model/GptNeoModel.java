package dev.gptneo.engine.model;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.ops.Epilogue;
import dev.gptneo.engine.ops.Ops;
import dev.gptneo.engine.ops.Ops.Activations;
import dev.gptneo.engine.ops.Step;
import dev.gptneo.engine.ops.TokenChoice;
import dev.gptneo.engine.ops.TokenTargets;

/**
 * The GPT-Neo forward pass over one ragged {@link Step}, top to bottom, plus the heads. Scratch
 * activations are allocated once for the largest step; nothing is allocated per step. Not
 * thread-safe: one scheduler thread drives it.
 */
public final class GptNeoModel {
  public final GptNeoConfig config;
  public final GptNeoWeights weights;
  private final Ops ops;
  private final int maxTokens;
  private final int maxHeadRows;

  private final Activations x;       // (maxTokens, hidden) the residual stream
  private final Activations normed;  // (maxTokens, hidden) layer-norm output
  private final Activations qkv;     // (maxTokens, 3 * hidden) [q | k | v]
  private final Activations attn;    // (maxTokens, hidden) attention output, heads side by side
  private final Activations mlp;     // (maxTokens, intermediate) read only by the MLP's second linear layer
  private final Activations headIn;  // (maxHeadRows, hidden) rows picked for a head
  private final Activations logits;  // (maxHeadRows, vocab) LM head output
  private Step running;              // the step ops.run is running: runLayers' argument, without a lambda per step
  private final Runnable runLayers = () -> layers(running, null);
  private final java.util.Map<Ops.Matrix, Activations> labelHeadOut = new java.util.IdentityHashMap<>(); // (maxHeadRows, labels)

  public GptNeoModel(GptNeoConfig config, GptNeoWeights weights, Ops ops, int maxTokens, int maxHeadRows) {
    this.config = config;
    this.weights = weights;
    this.ops = ops;
    this.maxTokens = maxTokens;
    this.maxHeadRows = maxHeadRows;
    int d = config.hiddenSize;
    x = ops.activations(maxTokens, d);
    normed = ops.activations(maxTokens, d);
    qkv = ops.attentionInput(maxTokens, 3 * d);
    attn = ops.activations(maxTokens, d);
    mlp = ops.linearInput(maxTokens, config.intermediateSize);
    headIn = ops.activations(maxHeadRows, d);
    logits = ops.activations(maxHeadRows, config.vocabSize);
    for (Ops.Matrix head : new Ops.Matrix[] {weights.score, weights.classifier, weights.qaOutputs}) {
      if (head != null) {
        labelHeadOut.put(head, ops.activations(maxHeadRows, head.rows()));
      }
    }
  }

  public Ops ops() {
    return ops;
  }

  public int maxTokens() {
    return maxTokens;
  }

  public int maxHeadRows() {
    return maxHeadRows;
  }

  /** Sees the residual stream between layers (for layer-by-layer debugging against HF). */
  public interface LayerProbe {
    /** x: (numTokens, hidden); {@code layer} blocks have run so far. */
    void afterLayer(int layer, Activations x, int numTokens);
  }

  /** Runs the step; afterwards {@link #hidden()} holds the final hidden states (after ln_f) of its tokens. */
  public void forward(Step step) {
    forward(step, null);
  }

  public void forward(Step step, LayerProbe probe) {
    if (probe == null) {
      running = step;
      ops.run(step, runLayers); // may be a replay (CUDA graphs)
    } else {
      layers(step, probe);
    }
    ops.commit(step);
  }

  /** Embedding, the blocks and the final layer norm: device work only (see {@link Ops#run}). */
  private void layers(Step step, LayerProbe probe) {
    int n = step.numTokens;
    assert n > 0 && n <= maxTokens;
    GptNeoWeights w = weights;
    float eps = config.layerNormEpsilon;
    ops.embed(step, w.wte, w.wpe, x);                                  // x = wte[ids] + wpe[pos]
    if (probe != null) {
      probe.afterLayer(0, x, n);
    }
    for (int l = 0; l < config.numLayers; l++) {
      GptNeoWeights.Layer layer = w.layers[l];
      // [q | k | v] = ln_1(x) Wqkv^T, through normed
      ops.normLinear(x, layer.ln1Gamma, layer.ln1Beta, eps, normed, layer.qkv, null, qkv, n, Epilogue.STORE);
      ops.attention(step, l, config.isLocal(l), config.windowSize, config.numHeads, qkv, attn);
      ops.linear(attn, layer.out, layer.outBias, x, n, Epilogue.ADD);   // x += attn Wo^T + bo
      // mlp = gelu_new(ln_2(x) Wfc^T + bfc), through normed
      ops.normLinear(x, layer.ln2Gamma, layer.ln2Beta, eps, normed, layer.fc, layer.fcBias, mlp, n,
          Epilogue.GELU_NEW);
      ops.linear(mlp, layer.proj, layer.projBias, x, n, Epilogue.ADD);  // x += gelu(..) Wp^T + bp
      if (probe != null) {
        probe.afterLayer(l + 1, x, n);
      }
    }
    ops.layerNorm(x, w.lnFGamma, w.lnFBeta, eps, normed, n);           // normed = final hidden states
  }

  /** Final hidden states of the last step: (numTokens, hidden). */
  public Activations hidden() {
    return normed;
  }

  /** Copies hidden rows to the host: dst (count, hidden). */
  public void readHidden(int[] rows, int count, float[] dst) {
    ops.gatherRows(normed, rows, count, headIn);
    ops.read(headIn, count, dst);
  }

  /**
   * Applies a head (a [labels, hidden] matrix plus optional bias) to hidden rows of the last step;
   * dst receives (count, head.rows()) logits. count &lt;= maxHeadRows.
   */
  public void head(Ops.Matrix head, Ops.Vector bias, int[] rows, int count, float[] dst) {
    assert count <= maxHeadRows;
    ops.gatherRows(normed, rows, count, headIn);
    Activations out = head == weights.lmHead ? logits : labelHeadOut.get(head);
    ops.linear(headIn, head, bias, out, count, Epilogue.STORE);
    ops.read(out, count, dst);
  }

  /** Whether the backend sums final hidden states itself (see {@link #sumHidden}). */
  public boolean sumsRows() {
    return ops.sumsRows();
  }

  /** sums (count, hidden): per range the double sum of the last step's final hidden rows (see {@link Ops#sumRows}). */
  public void sumHidden(int[] ranges, int count, double[] sums) {
    ops.sumRows(normed, ranges, count, sums);
  }

  /** Whether the backend chooses tokens from the LM head's rows without reading the logits back. */
  public boolean choosesTokens() {
    return ops.choosesTokens();
  }

  /**
   * The LM head on hidden rows of the last step, then one token per row as {@code choice} says,
   * on the backend (see {@link Ops#chooseTokens}): dst[i] for i &lt; count, and logprobs[i] for the
   * rows that want theirs. count &lt;= maxHeadRows.
   */
  public void chooseTokens(int[] rows, int count, TokenChoice choice, int[] dst, double[] logprobs) {
    assert count <= maxHeadRows && choice.rows() == count;
    ops.chooseTokens(lmLogits(rows, count), choice, dst, logprobs);
  }

  /** Whether the backend gives listed tokens' log-probabilities without reading the logits back. */
  public boolean scoresTokens() {
    return ops.scoresTokens();
  }

  /**
   * The LM head on hidden rows of the last step, then the log-probabilities of each row's listed
   * tokens on the backend (see {@link Ops#tokenLogprobs}): dst[i] for target i. count &lt;= maxHeadRows.
   */
  public void tokenLogprobs(int[] rows, int count, TokenTargets targets, double[] dst) {
    assert count <= maxHeadRows && targets.rows() == count;
    ops.tokenLogprobs(lmLogits(rows, count), targets, dst);
  }

  /** Whether the backend ranks beams' continuations without reading the logits back. */
  public boolean ranksTokens() {
    return ops.ranksTokens();
  }

  /**
   * The LM head on hidden rows of the last step, then each ranked row's best continuations on the
   * backend (see {@link Ops#rankTokens}). count &lt;= maxHeadRows.
   */
  public void rankTokens(int[] rows, int count, TokenChoice choice, float[] scores, int[] ids) {
    assert count <= maxHeadRows && choice.rows() == count;
    ops.rankTokens(lmLogits(rows, count), choice, scores, ids);
  }

  /** logits (count, vocab) = the LM head on the given hidden rows of the last step; they stay on the backend. */
  private Activations lmLogits(int[] rows, int count) {
    ops.gatherRows(normed, rows, count, headIn);
    ops.linear(headIn, weights.lmHead, null, logits, count, Epilogue.STORE);
    return logits;
  }
}
