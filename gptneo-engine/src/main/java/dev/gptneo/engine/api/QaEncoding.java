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
  final String context;     // the context text (null for token-id input)
  final int[] allContextIds; // the context's tokens before truncation
  final int contextOffset;  // index of contextIds[0] in allContextIds (> 0 after left truncation)

  private QaEncoding(int[] ids, int contextStart, int[] contextIds, String error, boolean fromText) {
    this(ids, contextStart, contextIds, error, fromText, null, contextIds, 0);
  }

  private QaEncoding(int[] ids, int contextStart, int[] contextIds, String error, boolean fromText, String context,
      int[] allContextIds, int contextOffset) {
    this.ids = ids;
    this.contextStart = contextStart;
    this.contextIds = contextIds;
    this.error = error;
    this.fromText = fromText;
    this.context = context;
    this.allContextIds = allContextIds;
    this.contextOffset = contextOffset;
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
      return error("question + context have " + (q.length + c.length) + " tokens, more than the limit of " + limit
          + " (" + reason + "); shorten the context, or set truncation to left or right to cut the context (the"
          + " question is never cut)");
    }
    int[] ids = Arrays.copyOf(q, q.length + ctx.ids.length);
    System.arraycopy(ctx.ids, 0, ids, q.length, ctx.ids.length);
    int offset = ctx.truncated && policy.truncation == Truncation.LEFT ? c.length - ctx.ids.length : 0;
    return new QaEncoding(ids, q.length, ctx.ids, null, true, in.context, c, offset);
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
    // Character (code point) offsets into the caller's context, as Python's str and Spark SQL's
    // strings count them (HF's pipeline): the span's byte range in the context's UTF-8 (byte-level
    // BPE is lossless), without the spaces its first token starts and its last token ends with (HF's
    // fast GPT-2 tokenizer reports offsets with ByteLevel trim_offsets), widened to whole characters
    // when a token splits one.
    int first = contextOffset + bestS - contextStart;
    int last = contextOffset + bestE - contextStart; // inclusive
    long byteStart = 0;
    long byteEnd = 0;
    for (int i = 0; i <= last; i++) {
      int bytes = tokenizer.tokenBytes(allContextIds[i]).length;
      if (i < first) {
        byteStart += bytes;
      }
      byteEnd += bytes;
    }
    byteStart += spaces(tokenizer.tokenBytes(allContextIds[first]), true);
    byteEnd = Math.max(byteStart, byteEnd - spaces(tokenizer.tokenBytes(allContextIds[last]), false));
    int[] chars = charRange(context, byteStart, byteEnd);
    if (chars == null) { // the tokens do not spell the context byte for byte (e.g. unpaired surrogates)
      String before = tokenizer.decode(allContextIds, 0, first);
      String answer = tokenizer.decode(allContextIds, first, last + 1);
      int cpStart = before.codePointCount(0, before.length());
      return new AnswerResult(answer, cpStart, cpStart + answer.codePointCount(0, answer.length()), bestS, bestE,
          score, start, end);
    }
    return new AnswerResult(context.substring(chars[0], chars[1]), context.codePointCount(0, chars[0]),
        context.codePointCount(0, chars[1]), bestS, bestE, score, start, end);
  }

  /** The ASCII spaces a token's bytes start (or end) with: what ByteLevel's trim_offsets leaves out. */
  private static int spaces(byte[] token, boolean leading) {
    int n = 0;
    while (n < token.length && token[leading ? n : token.length - 1 - n] == ' ') {
      n++;
    }
    return n;
  }

  /**
   * The char (UTF-16) range [start, end) of text whose UTF-8 bytes cover [byteStart, byteEnd): the
   * start rounds down and the end up to whole code points. Null when the context's UTF-8 is
   * shorter than byteEnd.
   */
  static int[] charRange(String text, long byteStart, long byteEnd) {
    int charStart = -1;
    long at = 0;
    int i = 0;
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      int width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (charStart < 0 && at + width > byteStart) {
        charStart = i;
      }
      if (at >= byteEnd) {
        break;
      }
      at += width;
      i += Character.charCount(cp);
    }
    if (at < byteEnd || charStart < 0) {
      return null;
    }
    return new int[] {charStart, i};
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
