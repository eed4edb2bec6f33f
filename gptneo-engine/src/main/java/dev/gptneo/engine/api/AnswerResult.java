package dev.gptneo.engine.api;

/**
 * The best answer span. {@code start}/{@code end} are character offsets into the context
 * (end exclusive), or token indices (end inclusive) when the input was token ids.
 */
public final class AnswerResult extends Result {
  public final String answer;       // null without a tokenizer
  public final int start;           // characters (code points, as Python and Spark SQL count) into the context
  public final int end;             // exclusive; for id input: token indices, end inclusive
  public final int startToken;      // index into the input ids
  public final int endToken;        // inclusive
  public final double score;        // p(start) * p(end), softmax over the context tokens
  public final float[] startLogits; // (tokens)
  public final float[] endLogits;   // (tokens)
  public final int inputTokens;     // question + context tokens after truncation

  public AnswerResult(String answer, int start, int end, int startToken, int endToken, double score,
      float[] startLogits, float[] endLogits) {
    super(null);
    this.answer = answer;
    this.start = start;
    this.end = end;
    this.startToken = startToken;
    this.endToken = endToken;
    this.score = score;
    this.startLogits = startLogits;
    this.endLogits = endLogits;
    this.inputTokens = startLogits.length;
  }

  private AnswerResult(String error) {
    super(error);
    answer = null;
    start = end = startToken = endToken = -1;
    score = Double.NaN;
    startLogits = endLogits = null;
    inputTokens = 0;
  }

  public static AnswerResult failed(String error) {
    return new AnswerResult(error);
  }
}
