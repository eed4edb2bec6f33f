package dev.gptneo.engine.generate;

/** Why generation ended; the names are the JSON values of {@code finish_reason}. */
public enum FinishReason {
  /** max_new_tokens reached, or the model's max_position_embeddings. */
  LENGTH("length"),
  /** The model's eos token was generated (it is included in the completion ids). */
  EOS("eos"),
  /** A stop string or stop token id was generated (included in the output, as in HF). */
  STOP("stop");

  public final String json;

  FinishReason(String json) {
    this.json = json;
  }
}
