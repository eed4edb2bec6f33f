package dev.gptneo.engine.batching;

import dev.gptneo.engine.ops.TokenChoice;

/**
 * A job whose LM-head row is a running beam that needs only its best continuations (beam search).
 * When the backend ranks tokens itself ({@code Ops.ranksTokens()}, the GPU), the scheduler asks the
 * job for the row's ranking ({@link TokenChoice#addRanked} and its edits) instead of giving it the
 * logits, and the job receives only the continuations; otherwise it gets the logits through
 * {@link Job#accept} and ranks them on the host, which must give the same ones up to the order of a sum.
 */
public interface RanksTokens {
  /** Adds exactly one ranked row to {@code choice}: how to rank the continuations at {@code position}. */
  void describeRanking(int position, TokenChoice choice);

  /** The row's continuations, scores[from..from + k) and ids[from..from + k), best first. */
  void acceptRanking(int position, float[] scores, int[] ids, int from, int k);

  /** False when the job needs the logits themselves (they then come through {@link Job#accept}). */
  default boolean backendMayRank() {
    return true;
  }
}
