package dev.gptneo.engine.batching;

import dev.gptneo.engine.ops.TokenTargets;

/**
 * A job whose LM-head rows each need only the log-probabilities of a few known tokens (scoring a
 * text, zero-shot labels). When the backend scores tokens itself ({@code Ops.scoresTokens()}: the
 * GPU, and the CPU on its pool), the scheduler asks the job for the row's tokens instead of giving
 * it the logits, and the job receives only their log-probabilities; otherwise it gets the logits
 * through {@link Job#accept} and computes them itself, which must give the same values up to the
 * order of a sum (the CPU's are the same bits).
 */
public interface ScoresTokens {
  /** Adds exactly one row to {@code targets} ({@link TokenTargets#addRow}): the tokens to score at {@code position}. */
  void describeTargets(int position, TokenTargets targets);

  /** The log-probabilities of the row's tokens, logprobs[from..to) in the order they were added. */
  void acceptLogprobs(int position, double[] logprobs, int from, int to);
}
