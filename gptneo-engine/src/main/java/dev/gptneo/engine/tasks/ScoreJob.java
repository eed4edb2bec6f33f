package dev.gptneo.engine.tasks;

import dev.gptneo.engine.batching.Head;
import dev.gptneo.engine.batching.Job;
import dev.gptneo.engine.generate.LogitsProcessors;

/**
 * Log-probabilities of a text's own tokens: for each position p >= scoreFrom, log P(token[p] |
 * tokens[0..p)). Scoring a whole text uses scoreFrom = 1; a zero-shot label scores only the
 * label's tokens after the text.
 */
public final class ScoreJob extends Job<double[]> {
  private final int scoreFrom;
  private final double[] logProbs; // (length - scoreFrom)

  public ScoreJob(int[] tokens, int scoreFrom) {
    super(tokens, tokens.length);
    if (scoreFrom < 1 || scoreFrom > tokens.length) {
      throw new IllegalArgumentException("scoreFrom " + scoreFrom + " outside 1.." + tokens.length);
    }
    this.scoreFrom = scoreFrom;
    this.logProbs = new double[tokens.length - scoreFrom];
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
  public double[] afterStep() {
    return pendingTokens() == 0 ? logProbs : null;
  }
}
