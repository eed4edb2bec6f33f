package dev.gptneo.engine.api;

/** A label per input token, with the token's text and the label's probability. */
public final class TokenClassifyResult extends Result {
  public final int[] inputIds;   // (tokens)
  public final String[] tokens;  // (tokens) decoded text of each token; null without a tokenizer
  public final String[] labels;  // (tokens)
  public final float[] scores;   // (tokens) softmax probability of the chosen label
  public final float[][] logits; // (tokens, labels)

  public TokenClassifyResult(int[] inputIds, String[] tokens, String[] labels, float[] scores, float[][] logits) {
    super(null);
    this.inputIds = inputIds;
    this.tokens = tokens;
    this.labels = labels;
    this.scores = scores;
    this.logits = logits;
  }

  private TokenClassifyResult(String error) {
    super(error);
    inputIds = null;
    tokens = null;
    labels = null;
    scores = null;
    logits = null;
  }

  public static TokenClassifyResult failed(String error) {
    return new TokenClassifyResult(error);
  }
}
