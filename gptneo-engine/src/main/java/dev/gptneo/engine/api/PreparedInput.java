package dev.gptneo.engine.api;

import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import java.util.Arrays;
import java.util.Optional;

/**
 * An input turned into token ids and checked: tokenized, truncated per the policy, ids in range.
 * Exactly one of {@code ids} and {@code error} is set, or neither for a null input.
 */
final class PreparedInput {
  final int[] ids;
  final String error;
  final boolean truncated;

  private PreparedInput(int[] ids, String error, boolean truncated) {
    this.ids = ids;
    this.error = error;
    this.truncated = truncated;
  }

  static final PreparedInput NULL = new PreparedInput(null, null, false);

  static PreparedInput error(String message) {
    return new PreparedInput(null, message, false);
  }

  boolean isNull() {
    return ids == null && error == null;
  }

  /** Tokenizes and checks one input. {@code limit} is the most tokens allowed for this task. */
  static PreparedInput of(Input input, Optional<Gpt2Tokenizer> tokenizer, int vocabSize, int limit,
      InputPolicy policy, String limitReason) {
    if (input == null || input.isNull()) {
      return NULL;
    }
    int[] ids;
    if (input.isText()) {
      if (tokenizer.isEmpty()) {
        return error("this model folder has no tokenizer (vocab.json + merges.txt, or tokenizer.json), so it"
            + " cannot take text; pass input_ids instead, or add the tokenizer files to the folder");
      }
      ids = tokenizer.get().encode(input.text());
    } else {
      ids = input.ids();
      for (int id : ids) {
        if (id < 0 || id >= vocabSize) {
          return error("token id " + id + " is outside the vocabulary [0, " + vocabSize + ")");
        }
      }
    }
    if (ids.length == 0) {
      return error("the input is empty (0 tokens); give at least one token of text");
    }
    return truncate(ids, limit, policy, limitReason);
  }

  static PreparedInput truncate(int[] ids, int limit, InputPolicy policy, String limitReason) {
    if (ids.length <= limit) {
      return new PreparedInput(ids, null, false);
    }
    switch (policy.truncation) {
      case LEFT:
        return new PreparedInput(Arrays.copyOfRange(ids, ids.length - limit, ids.length), null, true);
      case RIGHT:
        return new PreparedInput(Arrays.copyOf(ids, limit), null, true);
      default:
        return error("the input has " + ids.length + " tokens, more than the limit of " + limit + " (" + limitReason
            + "); shorten it, or set truncation to left or right to cut it");
    }
  }
}
