package dev.gptneo.engine.api;

/**
 * How likely the model finds a text: log P(token_i | tokens before it) for every token but the
 * first, their mean, and the perplexity exp(-mean).
 */
public final class ScoreResult extends Result {
  public final int[] inputIds;          // (tokens)
  public final double[] tokenLogprobs;  // (tokens - 1)
  public final double meanLogprob;      // NaN for a one-token text
  public final double perplexity;

  public ScoreResult(int[] inputIds, double[] tokenLogprobs) {
    super(null);
    this.inputIds = inputIds;
    this.tokenLogprobs = tokenLogprobs;
    double sum = 0;
    for (double v : tokenLogprobs) {
      sum += v;
    }
    this.meanLogprob = tokenLogprobs.length == 0 ? Double.NaN : sum / tokenLogprobs.length;
    this.perplexity = Math.exp(-meanLogprob);
  }

  private ScoreResult(String error) {
    super(error);
    inputIds = null;
    tokenLogprobs = null;
    meanLogprob = Double.NaN;
    perplexity = Double.NaN;
  }

  public static ScoreResult failed(String error) {
    return new ScoreResult(error);
  }
}
