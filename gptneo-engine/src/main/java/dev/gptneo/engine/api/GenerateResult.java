package dev.gptneo.engine.api;

import dev.gptneo.engine.generate.FinishReason;
import java.util.List;

/**
 * A completion. {@code text} is null when the model has no tokenizer. With num_return_sequences
 * above 1, the fields are the first sequence's and {@code sequences} holds them all.
 */
public final class GenerateResult extends Result {
  public final String text;            // the completion only (not the prompt), decoded as HF decodes (eos kept)
  public final int[] completionIds;    // generated ids, including eos when generation ended on it
  public final FinishReason finishReason;
  public final int promptTokens;       // after truncation
  public final int completionTokens;
  /** (completion) with logprobs: each generated token's log-probability; else null. */
  public final double[] tokenLogprobs;
  /** (num_return_sequences) every sequence of the row, the first (or best beam) first; empty for one. */
  public final List<GenerateResult> sequences;

  public GenerateResult(String text, int[] completionIds, FinishReason finishReason, int promptTokens) {
    this(text, completionIds, finishReason, promptTokens, null, List.of());
  }

  public GenerateResult(String text, int[] completionIds, FinishReason finishReason, int promptTokens,
      double[] tokenLogprobs) {
    this(text, completionIds, finishReason, promptTokens, tokenLogprobs, List.of());
  }

  private GenerateResult(String text, int[] completionIds, FinishReason finishReason, int promptTokens,
      double[] tokenLogprobs, List<GenerateResult> sequences) {
    super(null);
    this.text = text;
    this.completionIds = completionIds;
    this.finishReason = finishReason;
    this.promptTokens = promptTokens;
    this.completionTokens = completionIds.length;
    this.tokenLogprobs = tokenLogprobs;
    this.sequences = sequences;
  }

  private GenerateResult(String error) {
    super(error);
    text = null;
    completionIds = null;
    finishReason = null;
    promptTokens = 0;
    completionTokens = 0;
    tokenLogprobs = null;
    sequences = List.of();
  }

  public static GenerateResult failed(String error) {
    return new GenerateResult(error);
  }

  /**
   * One row's several sequences: the first one's fields, and all of them in {@code sequences}.
   * A failed sequence fails the row with its error (none is dropped silently).
   */
  static GenerateResult of(List<GenerateResult> sequences) {
    assert !sequences.isEmpty();
    for (GenerateResult r : sequences) {
      if (r == null || !r.ok()) {
        return r;
      }
    }
    GenerateResult first = sequences.get(0);
    return sequences.size() == 1 ? first : new GenerateResult(first.text, first.completionIds, first.finishReason,
        first.promptTokens, first.tokenLogprobs, List.copyOf(sequences));
  }
}
