package dev.gptneo.engine.api;

/** Token ids of a text (after truncation). */
public final class TokenizeResult extends Result {
  public final int[] inputIds;

  public TokenizeResult(int[] inputIds) {
    super(null);
    this.inputIds = inputIds;
  }

  private TokenizeResult(String error) {
    super(error);
    inputIds = null;
  }

  public static TokenizeResult failed(String error) {
    return new TokenizeResult(error);
  }
}
