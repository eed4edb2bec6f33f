package dev.gptneo.spark.execution;

import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.arrow.ArrowTasks;
import dev.gptneo.spark.functions.GptNeoFunction;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;

/** Prompt and generated token counts of a batch, for the operator's metrics. */
final class TokenCounts {
  final long prompt;
  final long generated;

  private TokenCounts(long prompt, long generated) {
    this.prompt = prompt;
    this.generated = generated;
  }

  /** Counts from the result columns, or null when the result does not carry them. */
  static TokenCounts of(GptNeoFunction function, VectorSchemaRoot result) {
    FieldVector inputTokens = result.getVector("input_tokens"); // if the engine reports it
    switch (function) {
      case GENERATE:
        return new TokenCounts(sum(result.getVector("prompt_tokens")), generated(result));
      case COUNT_TOKENS:
      case TOKENIZE:
        return new TokenCounts(sum(result.getVector("token_count")), 0);
      case SCORE:
        // token_logprobs has one entry per token but the first
        return new TokenCounts(listLengths((ListVector) result.getVector("token_logprobs"), 1), 0);
      case TOKEN_CLASSIFY:
        return new TokenCounts(listLengths((ListVector) result.getVector("tokens"), 0), 0);
      default:
        return inputTokens == null ? null : new TokenCounts(sum(inputTokens), 0);
    }
  }

  /** Fallback: tokenizes the inputs again (classify, embed, answer until the engine reports counts). */
  static TokenCounts byTokenizing(Engine engine, VarCharVector[] inputs, InputPolicy policy,
      BufferAllocator allocator) {
    long total = 0;
    for (VarCharVector input : inputs) {
      try (VectorSchemaRoot r = ArrowTasks.tokenize(engine, input, new InputPolicy(policy.maxInputTokens,
          dev.gptneo.engine.api.Truncation.RIGHT), allocator)) {
        total += sum(r.getVector("token_count"));
      }
    }
    return new TokenCounts(total, 0);
  }

  private static long sum(FieldVector v) {
    IntVector ints = (IntVector) v;
    long total = 0;
    for (int i = 0; i < ints.getValueCount(); i++) {
      if (!ints.isNull(i)) {
        total += ints.get(i);
      }
    }
    return total;
  }

  /** completion_tokens, or for rows with several sequences (num_return_sequences) all of theirs. */
  private static long generated(VectorSchemaRoot result) {
    IntVector first = (IntVector) result.getVector("completion_tokens");
    ListVector all = (ListVector) result.getVector("sequence_completion_tokens");
    IntVector counts = (IntVector) all.getDataVector();
    long total = 0;
    for (int i = 0; i < first.getValueCount(); i++) {
      if (!all.isNull(i)) {
        for (int e = all.getElementStartIndex(i); e < all.getElementEndIndex(i); e++) {
          total += counts.get(e);
        }
      } else if (!first.isNull(i)) {
        total += first.get(i);
      }
    }
    return total;
  }

  private static long listLengths(ListVector v, int extraPerRow) {
    long total = 0;
    for (int i = 0; i < v.getValueCount(); i++) {
      if (!v.isNull(i)) {
        total += v.getElementEndIndex(i) - v.getElementStartIndex(i) + extraPerRow;
      }
    }
    return total;
  }
}
