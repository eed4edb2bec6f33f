package dev.gptneo.engine.tasks;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.batching.ScoresTokens;
import dev.gptneo.engine.generate.LogitsProcessors;
import dev.gptneo.engine.ops.SequenceCache;
import dev.gptneo.engine.ops.TokenTargets;

/**
 * Log-probabilities of a text's own tokens: for each position p >= scoreFrom, log P(token[p] |
 * tokens[0..p)). Scoring a whole text uses scoreFrom = 1; a zero-shot label scores only the
 * label's tokens after the text. On a backend that scores tokens (the GPU) only the log-probabilities
 * cross, not the logits.
 */
public final class ScoreJob extends Job<double[]> implements ScoresTokens {
  private final int scoreFrom;
  private final double[] logProbs; // (length - scoreFrom)

  public ScoreJob(int[] tokens, int scoreFrom) {
    super(tokens, tokens.length);
    this.scoreFrom = checked(scoreFrom, tokens.length);
    this.logProbs = new double[tokens.length - scoreFrom];
  }

  /**
   * Continues tokens whose first cache.length() are in the cache; the rows to score (from position
   * scoreFrom - 1) must not be among them.
   */
  public ScoreJob(SequenceCache cache, int[] tokens, int scoreFrom) {
    super(cache, tokens);
    if (cache.length() > scoreFrom - 1) {
      throw new IllegalArgumentException("the cache already holds the rows to score");
    }
    this.scoreFrom = checked(scoreFrom, tokens.length);
    this.logProbs = new double[tokens.length - scoreFrom];
  }

  private static int checked(int scoreFrom, int length) {
    if (scoreFrom < 1 || scoreFrom > length) {
      throw new IllegalArgumentException("scoreFrom " + scoreFrom + " outside 1.." + length);
    }
    return scoreFrom;
  }

  @Override
  public Head head() {
    return Head.LM;
  }

  @Override
  public boolean wantsRow(int position) {
    return position + 1 >= scoreFrom && position + 1 < length;
  }

  @Override
  public void accept(int position, float[] out, int off, int width) {
    logProbs[position + 1 - scoreFrom] = LogitsProcessors.logProb(out, off, width, tokens[position + 1]);
  }

  @Override
  public void describeTargets(int position, TokenTargets targets) {
    targets.addRow();
    targets.add(tokens[position + 1]);
  }

  @Override
  public void acceptLogprobs(int position, double[] logprobs, int from, int to) {
    assert to == from + 1;
    logProbs[position + 1 - scoreFrom] = logprobs[from];
  }

  @Override
  public double[] afterStep() {
    return pendingTokens() == 0 ? logProbs : null;
  }
}
