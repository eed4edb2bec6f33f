package dev.gptneo.engine.arrow;

import dev.gptneo.engine.api.AnswerResult;
import dev.gptneo.engine.api.ClassifyResult;
import dev.gptneo.engine.api.EmbedResult;
import dev.gptneo.engine.api.Engine;
import dev.gptneo.engine.api.GenerateResult;
import dev.gptneo.engine.api.Input;
import dev.gptneo.engine.api.InputPolicy;
import dev.gptneo.engine.api.QaInput;
import dev.gptneo.engine.api.Result;
import dev.gptneo.engine.api.ScoreResult;
import dev.gptneo.engine.api.TokenClassifyResult;
import dev.gptneo.engine.api.TokenizeResult;
import dev.gptneo.engine.generate.GenerationParams;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.MapVector;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * The engine's Arrow batch API: one input column (a {@link VarCharVector} of texts, or a
 * {@link ListVector} of integer token ids) in, a {@link VectorSchemaRoot} with one row per input
 * row out, in order. A null input row gives a null output row; a row that fails has its {@code error}
 * column set and its other columns null. All output memory comes from the caller's allocator; the
 * caller closes the returned root.
 */
public final class ArrowTasks {
  private ArrowTasks() {}

  /** Reads a text column or a list-of-integers column into engine inputs. */
  public static List<Input> inputs(FieldVector column) {
    int n = column.getValueCount();
    List<Input> out = new ArrayList<>(n);
    if (column instanceof VarCharVector) {
      VarCharVector v = (VarCharVector) column;
      for (int i = 0; i < n; i++) {
        out.add(v.isNull(i) ? null : Input.text(new String(v.get(i), java.nio.charset.StandardCharsets.UTF_8)));
      }
      return out;
    }
    if (column instanceof ListVector) {
      ListVector v = (ListVector) column;
      FieldVector child = v.getDataVector();
      for (int i = 0; i < n; i++) {
        if (v.isNull(i)) {
          out.add(null);
          continue;
        }
        int start = v.getElementStartIndex(i);
        int end = v.getElementEndIndex(i);
        int[] ids = new int[end - start];
        for (int j = start; j < end; j++) {
          Object o = child.getObject(j);
          boolean integral = o instanceof Integer || o instanceof Long || o instanceof Short || o instanceof Byte;
          if (!integral || ((Number) o).longValue() != ((Number) o).intValue()) {
            throw new IllegalArgumentException("token id lists must hold 32-bit integers; row " + i + " holds "
                + (o == null ? "a null" : o + (integral ? "" : " (" + o.getClass().getSimpleName() + ")")));
          }
          ids[j - start] = ((Number) o).intValue();
        }
        out.add(Input.ids(ids));
      }
      return out;
    }
    throw new IllegalArgumentException("input column '" + column.getName() + "' is "
        + column.getField().getType() + "; expected utf8 texts or a list of integer token ids");
  }

  /**
   * Columns: text, completion_ids, finish_reason, prompt_tokens, completion_tokens, error; and, for
   * rows with num_return_sequences > 1 (null for the others), every sequence's sequence_texts,
   * sequence_finish_reasons and sequence_completion_tokens (lists, the first sequence first). With
   * logprobs (else null): token_logprobs, and for several sequences sequence_token_logprobs.
   */
  public static VectorSchemaRoot generate(Engine engine, FieldVector input, List<GenerationParams> params,
      InputPolicy policy, BufferAllocator allocator) {
    List<GenerateResult> results = engine.generate(inputs(input), params, policy);
    try (Columns c = new Columns(allocator, results.size())) {
      VarCharVector text = c.utf8("text");
      ListVector ids = c.list("completion_ids", Columns.INT32);
      VarCharVector finish = c.utf8("finish_reason");
      IntVector promptTokens = c.int32("prompt_tokens");
      IntVector completionTokens = c.int32("completion_tokens");
      VarCharVector error = c.utf8("error");
      ListVector texts = c.list("sequence_texts", ArrowType.Utf8.INSTANCE);
      ListVector finishes = c.list("sequence_finish_reasons", ArrowType.Utf8.INSTANCE);
      ListVector counts = c.list("sequence_completion_tokens", Columns.INT32);
      ListVector logprobs = c.list("token_logprobs", Columns.FLOAT64);
      ListVector sequenceLogprobs = c.listOfFloat64Lists("sequence_token_logprobs");
      for (int i = 0; i < results.size(); i++) {
        GenerateResult r = results.get(i);
        if (setError(error, i, r) || r == null) {
          continue;
        }
        Columns.set(text, i, r.text);
        Columns.setInts(ids, i, r.completionIds);
        Columns.set(finish, i, r.finishReason.json);
        promptTokens.setSafe(i, r.promptTokens);
        completionTokens.setSafe(i, r.completionTokens);
        Columns.setDoubles(logprobs, i, r.tokenLogprobs);
        if (!r.sequences.isEmpty() && r.tokenLogprobs != null) {
          Columns.setDoubleLists(sequenceLogprobs, i, r.sequences.stream().map(s -> s.tokenLogprobs)
              .collect(java.util.stream.Collectors.toList()));
        }
        if (!r.sequences.isEmpty()) {
          if (r.text != null) { // null without a tokenizer, for every sequence alike
            Columns.setStrings(texts, i, r.sequences.stream().map(s -> s.text).toArray(String[]::new));
          }
          Columns.setStrings(finishes, i, r.sequences.stream().map(s -> s.finishReason.json).toArray(String[]::new));
          Columns.setInts(counts, i, r.sequences.stream().mapToInt(s -> s.completionTokens).toArray());
        }
      }
      return c.finish();
    }
  }

  public static VectorSchemaRoot generate(Engine engine, FieldVector input, GenerationParams params,
      InputPolicy policy, BufferAllocator allocator) {
    return generate(engine, input, Collections.nCopies(input.getValueCount(), params), policy, allocator);
  }

  /**
   * Columns: label, probabilities (map label to probability), logits, error. With {@code labels}
   * null, uses the classification head; else zero-shot over those labels.
   */
  public static VectorSchemaRoot classify(Engine engine, FieldVector input, List<String> labels, InputPolicy policy,
      BufferAllocator allocator) {
    List<ClassifyResult> results = labels == null ? engine.classify(inputs(input), policy)
        : engine.classifyZeroShot(inputs(input), labels, policy);
    try (Columns c = new Columns(allocator, results.size())) {
      VarCharVector label = c.utf8("label");
      MapVector probs = c.mapUtf8ToFloat64("probabilities");
      ListVector logits = c.list("logits", Columns.FLOAT32);
      IntVector inputTokens = c.int32("input_tokens");
      VarCharVector error = c.utf8("error");
      for (int i = 0; i < results.size(); i++) {
        ClassifyResult r = results.get(i);
        if (setError(error, i, r) || r == null) {
          continue;
        }
        Columns.set(label, i, r.label);
        Columns.setMap(probs, i, r.probabilities);
        Columns.setFloats(logits, i, r.logits);
        inputTokens.setSafe(i, r.inputTokens);
      }
      return c.finish();
    }
  }

  /** Columns: embedding (mean-pooled), last_token_embedding, input_tokens, error. */
  public static VectorSchemaRoot embed(Engine engine, FieldVector input, InputPolicy policy,
      BufferAllocator allocator) {
    List<EmbedResult> results = engine.embed(inputs(input), policy);
    try (Columns c = new Columns(allocator, results.size())) {
      ListVector mean = c.list("embedding", Columns.FLOAT32);
      ListVector last = c.list("last_token_embedding", Columns.FLOAT32);
      IntVector inputTokens = c.int32("input_tokens");
      VarCharVector error = c.utf8("error");
      for (int i = 0; i < results.size(); i++) {
        EmbedResult r = results.get(i);
        if (setError(error, i, r) || r == null) {
          continue;
        }
        Columns.setFloats(mean, i, r.mean);
        Columns.setFloats(last, i, r.lastToken);
        inputTokens.setSafe(i, r.tokens);
      }
      return c.finish();
    }
  }

  /** Columns: token_logprobs, mean_logprob, perplexity, input_tokens, error. */
  public static VectorSchemaRoot score(Engine engine, FieldVector input, InputPolicy policy,
      BufferAllocator allocator) {
    List<ScoreResult> results = engine.score(inputs(input), policy);
    try (Columns c = new Columns(allocator, results.size())) {
      ListVector logprobs = c.list("token_logprobs", Columns.FLOAT64);
      Float8Vector mean = c.float64("mean_logprob");
      Float8Vector ppl = c.float64("perplexity");
      IntVector inputTokens = c.int32("input_tokens");
      VarCharVector error = c.utf8("error");
      for (int i = 0; i < results.size(); i++) {
        ScoreResult r = results.get(i);
        if (setError(error, i, r) || r == null) {
          continue;
        }
        inputTokens.setSafe(i, r.inputIds.length);
        Columns.setDoubles(logprobs, i, r.tokenLogprobs);
        if (!Double.isNaN(r.meanLogprob)) {
          mean.setSafe(i, r.meanLogprob);
          ppl.setSafe(i, r.perplexity);
        }
      }
      return c.finish();
    }
  }

  /** Columns: input_ids, token_count, error. */
  public static VectorSchemaRoot tokenize(Engine engine, FieldVector input, InputPolicy policy,
      BufferAllocator allocator) {
    List<TokenizeResult> results = engine.tokenize(inputs(input), policy);
    try (Columns c = new Columns(allocator, results.size())) {
      ListVector ids = c.list("input_ids", Columns.INT32);
      IntVector count = c.int32("token_count");
      VarCharVector error = c.utf8("error");
      for (int i = 0; i < results.size(); i++) {
        TokenizeResult r = results.get(i);
        if (setError(error, i, r) || r == null) {
          continue;
        }
        Columns.setInts(ids, i, r.inputIds);
        count.setSafe(i, r.inputIds.length);
      }
      return c.finish();
    }
  }

  /** Columns: tokens, labels, scores, input_tokens, error. */
  public static VectorSchemaRoot tokenClassify(Engine engine, FieldVector input, InputPolicy policy,
      BufferAllocator allocator) {
    List<TokenClassifyResult> results = engine.tokenClassify(inputs(input), policy);
    try (Columns c = new Columns(allocator, results.size())) {
      ListVector tokens = c.list("tokens", ArrowType.Utf8.INSTANCE);
      ListVector labels = c.list("labels", ArrowType.Utf8.INSTANCE);
      ListVector scores = c.list("scores", Columns.FLOAT32);
      IntVector inputTokens = c.int32("input_tokens");
      VarCharVector error = c.utf8("error");
      for (int i = 0; i < results.size(); i++) {
        TokenClassifyResult r = results.get(i);
        if (setError(error, i, r) || r == null) {
          continue;
        }
        inputTokens.setSafe(i, r.inputIds.length);
        Columns.setStrings(tokens, i, r.tokens);
        Columns.setStrings(labels, i, r.labels);
        Columns.setFloats(scores, i, r.scores);
      }
      return c.finish();
    }
  }

  /** Question and context columns (utf8). Columns: answer, start, end, score, input_tokens, error. */
  public static VectorSchemaRoot answer(Engine engine, VarCharVector question, VarCharVector context,
      int maxAnswerTokens, InputPolicy policy, BufferAllocator allocator) {
    int n = question.getValueCount();
    if (context.getValueCount() != n) {
      throw new IllegalArgumentException("question and context columns differ in length: " + n + " vs "
          + context.getValueCount());
    }
    List<QaInput> in = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      in.add(question.isNull(i) || context.isNull(i) ? null
          : QaInput.of(new String(question.get(i), java.nio.charset.StandardCharsets.UTF_8),
              new String(context.get(i), java.nio.charset.StandardCharsets.UTF_8)));
    }
    List<AnswerResult> results = engine.answer(in, maxAnswerTokens, policy);
    try (Columns c = new Columns(allocator, n)) {
      VarCharVector answer = c.utf8("answer");
      IntVector start = c.int32("start");
      IntVector end = c.int32("end");
      Float8Vector score = c.float64("score");
      IntVector inputTokens = c.int32("input_tokens");
      VarCharVector error = c.utf8("error");
      for (int i = 0; i < n; i++) {
        AnswerResult r = results.get(i);
        if (setError(error, i, r) || r == null) {
          continue;
        }
        inputTokens.setSafe(i, r.inputTokens);
        Columns.set(answer, i, r.answer);
        start.setSafe(i, r.start);
        end.setSafe(i, r.end);
        score.setSafe(i, r.score);
      }
      return c.finish();
    }
  }

  /** Writes the row's error, if any; true when the row failed. */
  private static boolean setError(VarCharVector error, int row, Result r) {
    if (r != null && r.error != null) {
      Columns.set(error, row, r.error);
      return true;
    }
    return false;
  }
}
