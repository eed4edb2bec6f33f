package dev.gptneo.engine.ops;

/**
 * log(softmax(logits)[token]) over one row of logits, in double: (double) (logit - max) -
 * log(sum of exp(logit - max)), the sum in id order. The host's arithmetic for scores, zero-shot
 * labels and logprobs (LogitsProcessors.logProb), and the CPU backend's tokenLogprobs: one
 * function, so both paths give the same bits.
 */
public final class LogSoftmax {
  private LogSoftmax() {}

  /** The log-probability of token in logits[off..off + vocab). */
  public static double logProb(float[] logits, int off, int vocab, int token) {
    float max = max(logits, off, vocab);
    return logits[off + token] - max - Math.log(sumExp(logits, off, vocab, max));
  }

  /** {@link #logProb} of each of tokens into dst (the same bits), the max and the sum taken once. */
  public static void logProbs(float[] logits, int off, int vocab, int[] tokens, double[] dst) {
    float max = max(logits, off, vocab);
    double logSum = Math.log(sumExp(logits, off, vocab, max));
    for (int i = 0; i < tokens.length; i++) {
      dst[i] = logits[off + tokens[i]] - max - logSum;
    }
  }

  /** {@link #logProb} of row r's targets into dst[from(r)..to(r)), from logits[off..off + vocab). */
  public static void logProbs(float[] logits, int off, int vocab, TokenTargets targets, int r, double[] dst) {
    if (targets.from(r) == targets.to(r)) {
      return;
    }
    float max = max(logits, off, vocab);
    double logSum = Math.log(sumExp(logits, off, vocab, max));
    for (int i = targets.from(r); i < targets.to(r); i++) {
      dst[i] = logits[off + targets.id(i)] - max - logSum;
    }
  }

  /** The largest of logits[off..off + vocab) (Math.max's order: +0 above -0). */
  public static float max(float[] logits, int off, int vocab) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[off + i]);
    }
    return max;
  }

  /** The sum of exp(logit - max) over logits[off..off + vocab), in double, in id order. */
  public static double sumExp(float[] logits, int off, int vocab, float max) {
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      sum += Math.exp(logits[off + i] - max);
    }
    return sum;
  }
}
