package dev.gptneo.engine.batching;

import dev.gptneo.engine.ops.TokenChoice;

/**
 * A job whose LM-head rows each end in one chosen token (generation). When the backend chooses
 * tokens itself ({@code Ops.choosesTokens()}, the GPU), the scheduler gives it the row's
 * processing instead of the logits, and the job receives only the token; otherwise the job gets
 * the logits through {@link Job#accept} and chooses on the host, which must give the same token.
 */
public interface ChoosesTokens {
  /** Adds exactly one row to {@code choice}: how to choose the token at {@code position}. */
  void describeChoice(int position, TokenChoice choice);

  /**
   * The token the backend chose for the row at {@code position}, and its log-probability when
   * describeChoice asked for it ({@link TokenChoice#wantLogprob}; else NaN).
   */
  void acceptToken(int position, int token, double logprob);

  /** False when the job needs the logits themselves (they then come through {@link Job#accept}). */
  default boolean backendMayChoose() {
    return true;
  }
}
