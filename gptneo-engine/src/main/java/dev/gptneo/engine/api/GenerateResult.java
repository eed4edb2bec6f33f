package dev.gptneo.engine.api;

import dev.gptneo.engine.generate.FinishReason;

/** A completion. {@code text} is null when the model has no tokenizer. */
public final class GenerateResult extends Result {
  public final String text;            // the completion only (not the prompt), decoded as HF decodes (eos kept)
  public final int[] completionIds;    // generated ids, including eos when generation ended on it
  public final FinishReason finishReason;
  public final int promptTokens;       // after truncation
  public final int completionTokens;

  public GenerateResult(String text, int[] completionIds, FinishReason finishReason, int promptTokens) {
    super(null);
    this.text = text;
    this.completionIds = completionIds;
    this.finishReason = finishReason;
    this.promptTokens = promptTokens;
    this.completionTokens = completionIds.length;
  }

  private GenerateResult(String error) {
    super(error);
    text = null;
    completionIds = null;
    finishReason = null;
    promptTokens = 0;
    completionTokens = 0;
  }

  public static GenerateResult failed(String error) {
    return new GenerateResult(error);
  }
}
