package dev.gptneo.engine.tokenizer;

/**
 * A token matched verbatim in the text before pre-tokenization (HF's "added_tokens", e.g.
 * {@code <|endoftext|>}). The flags mean what they mean in HF tokenizers: {@code singleWord}
 * matches only between non-word chars, {@code lstrip}/{@code rstrip} swallow the whitespace on
 * that side, and {@code normalized} tokens are matched in a second pass, after the others.
 */
record AddedToken(String content, int id, boolean special, boolean singleWord, boolean lstrip,
    boolean rstrip, boolean normalized) {

  AddedToken {
    if (content.isEmpty() || id < 0) {
      throw new IllegalArgumentException("added token needs content and an id >= 0");
    }
  }

  /** What HF's GPT-2 setup gives {@code <|endoftext|>} when only vocab.json is there. */
  static AddedToken special(String content, int id) {
    return new AddedToken(content, id, true, false, false, false, false);
  }
}
