package dev.gptneo.engine.api;

/** Final hidden states (after ln_f) pooled over the tokens. */
public final class EmbedResult extends Result {
  public final float[] mean;      // (hidden) mean over all tokens
  public final float[] lastToken; // (hidden) the last token's state
  public final int tokens;

  public EmbedResult(float[] mean, float[] lastToken, int tokens) {
    super(null);
    this.mean = mean;
    this.lastToken = lastToken;
    this.tokens = tokens;
  }

  private EmbedResult(String error) {
    super(error);
    mean = null;
    lastToken = null;
    tokens = 0;
  }

  public static EmbedResult failed(String error) {
    return new EmbedResult(error);
  }
}
