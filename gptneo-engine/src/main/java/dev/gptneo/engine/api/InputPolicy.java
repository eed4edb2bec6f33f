package dev.gptneo.engine.api;

/**
 * How long an input may be and what happens above that. {@code maxInputTokens} 0 means the
 * model's own limit (max_position_embeddings, minus one for generation); a larger value is capped
 * at the model's limit.
 */
public final class InputPolicy {
  public static final InputPolicy DEFAULT = new InputPolicy(0, Truncation.ERROR);

  public final int maxInputTokens;
  public final Truncation truncation;

  public InputPolicy(int maxInputTokens, Truncation truncation) {
    if (maxInputTokens < 0) {
      throw new IllegalArgumentException("max_input_tokens must be >= 1 (or 0 for the model's limit), got "
          + maxInputTokens);
    }
    this.maxInputTokens = maxInputTokens;
    this.truncation = truncation == null ? Truncation.ERROR : truncation;
  }

  /** The limit for an input, given the model's own limit for the task. */
  public int limit(int modelLimit) {
    return maxInputTokens == 0 ? modelLimit : Math.min(maxInputTokens, modelLimit);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InputPolicy && ((InputPolicy) o).maxInputTokens == maxInputTokens
        && ((InputPolicy) o).truncation == truncation;
  }

  @Override
  public int hashCode() {
    return maxInputTokens * 31 + truncation.hashCode();
  }

  @Override
  public String toString() {
    return "InputPolicy{max_input_tokens=" + (maxInputTokens == 0 ? "model" : maxInputTokens) + ", truncation="
        + truncation.json() + "}";
  }
}
