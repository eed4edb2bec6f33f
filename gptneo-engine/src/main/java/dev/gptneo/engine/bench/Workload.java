package dev.gptneo.engine.bench;

import dev.gptneo.engine.config.GptNeoConfig;

/**
 * The arithmetic and memory traffic of a GPT-Neo forward pass, from its config; the benchmark
 * divides these by measured time.
 *
 * <ul>
 *   <li>Matmul FLOPs per token: 2 x the body's weight-matrix elements (q, k, v, out, fc, proj of
 *       every layer), i.e. 2 x L x (4 d^2 + 2 d I). Biases, layer norms, gelu and softmax are
 *       O(d) per token and left out; so are the embeddings (a row lookup, no FLOPs).</li>
 *   <li>Attention FLOPs per token and layer: 4 d c, where c is the number of keys the token sees
 *       (QK^T and softmax(..)V are d c multiply-adds each): c = position + 1 on global layers,
 *       min(position + 1, window) on local layers.</li>
 *   <li>LM head: 2 d V per position whose logits are computed (generation only).</li>
 *   <li>Bytes read per decode step: every weight matrix once (body + the tied LM head, V x d) at
 *       the checkpoint's bytes per element, plus each sequence's K and V cache (fp32) for the
 *       keys it sees.</li>
 * </ul>
 */
public final class Workload {
  private final GptNeoConfig c;
  private final double bytesPerWeight;
  private final int kvBytesPerElement;

  /**
   * @param bytesPerWeight bytes per weight element in memory (4 for F32, 2 for F16/BF16)
   * @param kvBytesPerElement bytes per cached key or value element (4 on the CPU, 2 in a 16-bit GPU cache)
   */
  public Workload(GptNeoConfig config, double bytesPerWeight, int kvBytesPerElement) {
    this.c = config;
    this.bytesPerWeight = bytesPerWeight;
    this.kvBytesPerElement = kvBytesPerElement;
  }

  /** Weight-matrix elements of the transformer body. */
  public long bodyMatmulParams() {
    return (long) c.numLayers * (4L * c.hiddenSize * c.hiddenSize + 2L * c.hiddenSize * c.intermediateSize);
  }

  /** Keys a token at {@code position} sees in layer {@code layer}. */
  int keys(int layer, int position) {
    return c.isLocal(layer) ? Math.min(position + 1, c.windowSize) : position + 1;
  }

  /** Body FLOPs (matmuls + attention) of one token at {@code position}. */
  public double tokenFlops(int position) {
    double f = 2.0 * bodyMatmulParams();
    for (int l = 0; l < c.numLayers; l++) {
      f += 4.0 * c.hiddenSize * keys(l, position);
    }
    return f;
  }

  /** Body FLOPs of one sequence's tokens at positions [from, to). */
  public double bodyFlops(int from, int to) {
    double f = 0;
    for (int p = from; p < to; p++) {
      f += tokenFlops(p);
    }
    return f;
  }

  /** FLOPs of the LM head for one position. */
  public double lmHeadFlops() {
    return 2.0 * c.hiddenSize * c.vocabSize;
  }

  /** FLOPs of a prefill (body only, no head) of {@code batch} sequences of {@code prompt} tokens. */
  public double prefillFlops(int batch, int prompt) {
    return batch * bodyFlops(0, prompt);
  }

  /** FLOPs of classification: the body plus a {@code labels}-wide head at the last token. */
  public double classifyFlops(int batch, int prompt, int labels) {
    return batch * (bodyFlops(0, prompt) + 2.0 * c.hiddenSize * labels);
  }

  /** FLOPs of scoring: the body plus the LM head at every token but the last. */
  public double scoreFlops(int batch, int prompt) {
    return batch * (bodyFlops(0, prompt) + (prompt - 1) * lmHeadFlops());
  }

  /**
   * FLOPs of generating {@code newTokens} per sequence after a {@code prompt}: the prompt and the
   * first newTokens - 1 generated tokens go through the body, and the LM head runs newTokens times.
   */
  public double generateFlops(int batch, int prompt, int newTokens) {
    return batch * (bodyFlops(0, prompt + newTokens - 1) + newTokens * lmHeadFlops());
  }

  /** Bytes of weights a decode step reads: the body's matrices and the LM head, once for the whole batch. */
  public double weightBytesPerStep() {
    return (bodyMatmulParams() + (double) c.vocabSize * c.hiddenSize) * bytesPerWeight;
  }

  /** Bytes of K and V cache one sequence's token at {@code position} reads, all layers. */
  public double kvBytes(int position) {
    double b = 0;
    for (int l = 0; l < c.numLayers; l++) {
      b += 2.0 * c.hiddenSize * kvBytesPerElement * keys(l, position);
    }
    return b;
  }

  /**
   * Bytes the decode steps of a generation read (weights once per step, KV per sequence): steps
   * feed the generated tokens 1..newTokens-1, at positions prompt..prompt+newTokens-2.
   */
  public double decodeBytes(int batch, int prompt, int newTokens) {
    double b = 0;
    for (int p = prompt; p < prompt + newTokens - 1; p++) {
      b += weightBytesPerStep() + batch * kvBytes(p);
    }
    return b;
  }

  /** FLOPs of those decode steps (body + LM head for each of the batch's tokens). */
  public double decodeFlops(int batch, int prompt, int newTokens) {
    double f = 0;
    for (int p = prompt; p < prompt + newTokens - 1; p++) {
      f += batch * (tokenFlops(p) + lmHeadFlops());
    }
    return f;
  }
}
