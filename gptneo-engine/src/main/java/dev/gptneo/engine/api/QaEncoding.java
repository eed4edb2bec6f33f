package dev.gptneo.engine.api;

import dev.gptneo.engine.config.GptNeoConfig;
import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import java.util.Arrays;
import java.util.Optional;

/**
 * Question + context as one token sequence (GPT-2 pairs are plain concatenation), and the search
 * for the best answer span inside the context. Truncation cuts the context, never the question.
 */
final class QaEncoding {
  final int[] ids;          // question tokens, then context tokens
  final int contextStart;   // first context token
  final int[] contextIds;   // context tokens after truncation
  final String error;
  final boolean fromText;

  private QaEncoding(int[] ids, int contextStart, int[] contextIds, String error, boolean fromText) {
    this.ids = ids;
    this.contextStart = contextStart;
    this.contextIds = contextIds;
    this.error = error;
    this.fromText = fromText;
  }

  private static QaEncoding error(String message) {
    return new QaEncoding(null, 0, null, message, false);
  }

  /** Null for a null input. */
  static QaEncoding of(QaInput in, Optional<Gpt2Tokenizer> tokenizer, GptNeoConfig config, InputPolicy policy) {
    if (in == null || (in.inputIds == null && in.question == null && in.context == null)) {
      return null;
    }
    int limit = policy.limit(config.maxPositionEmbeddings);
    String reason = policy.maxInputTokens > 0 && policy.maxInputTokens < config.maxPositionEmbeddings
        ? "max_input_tokens " + policy.maxInputTokens : "max_position_embeddings " + config.maxPositionEmbeddings;
    if (in.inputIds != null) {
      PreparedInput p = PreparedInput.of(Input.ids(in.inputIds), tokenizer, config.vocabSize, limit, policy, reason);
      return p.error != null ? error(p.error) : new QaEncoding(p.ids, 0, p.ids, null, false);
    }
    if (in.question == null || in.context == null) {
      return error("question answering needs both a question and a context");
    }
    if (tokenizer.isEmpty()) {
      return error("this model folder has no tokenizer, so it cannot take text; pass input_ids instead");
    }
    int[] q = tokenizer.get().encode(in.question);
    int[] c = tokenizer.get().encode(in.context);
    if (c.length == 0) {
      return error("the context is empty (0 tokens)");
    }
    if (q.length >= limit) {
      return error("the question alone has " + q.length + " tokens, leaving no room for the context within "
          + limit + " (" + reason + ")");
    }
    PreparedInput ctx = PreparedInput.truncate(c, limit - q.length, policy,
        reason + " minus the question's " + q.length + " tokens");
    if (ctx.error != null) {
      return error(ctx.error.replace("the input has", "question + context have").replace(c.length + " tokens",
          (q.length + c.length) + " tokens"));
    }
    int[] ids = Arrays.copyOf(q, q.length + ctx.ids.length);
    System.arraycopy(ctx.ids, 0, ids, q.length, ctx.ids.length);
    return new QaEncoding(ids, q.length, ctx.ids, null, true);
  }

  /** rows: (tokens, 2) start and end logits. */
  AnswerResult bestSpan(float[] rows, int maxAnswerTokens, Gpt2Tokenizer tokenizer) {
    int n = ids.length;
    float[] start = new float[n];
    float[] end = new float[n];
    for (int t = 0; t < n; t++) {
      start[t] = rows[2 * t];
      end[t] = rows[2 * t + 1];
    }
    int bestS = contextStart;
    int bestE = contextStart;
    float best = Float.NEGATIVE_INFINITY;
    for (int s = contextStart; s < n; s++) {
      for (int e = s; e < n && e - s < maxAnswerTokens; e++) {
        float v = start[s] + end[e];
        if (v > best) {
          best = v;
          bestS = s;
          bestE = e;
        }
      }
    }
    double score = softmaxAt(start, contextStart, bestS) * softmaxAt(end, contextStart, bestE);
    if (!fromText) {
      String answer = tokenizer == null ? null : tokenizer.decode(Arrays.copyOfRange(ids, bestS, bestE + 1));
      return new AnswerResult(answer, bestS, bestE, bestS, bestE, score, start, end);
    }
    int charStart = tokenizer.decode(contextIds, 0, bestS - contextStart).length();
    String answer = tokenizer.decode(contextIds, bestS - contextStart, bestE + 1 - contextStart);
    return new AnswerResult(answer, charStart, charStart + answer.length(), bestS, bestE, score, start, end);
  }

  private static double softmaxAt(float[] logits, int from, int at) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = from; i < logits.length; i++) {
      max = Math.max(max, logits[i]);
    }
    double sum = 0;
    for (int i = from; i < logits.length; i++) {
      sum += Math.exp(logits[i] - max);
    }
    return Math.exp(logits[at] - max) / sum;
  }
}
