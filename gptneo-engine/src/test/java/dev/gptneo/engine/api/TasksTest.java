package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.testing.CodePoints;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.testing.TinyCheckpoints;
import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * classify (head and zero-shot), embed, score and answer. Question answering with text needs a QA
 * head and a tokenizer: tiny-neo/qa has a 1,000-token vocab, too small for the GPT-2 tokenizer, so
 * the text tests use a random tiny GPT-Neo with the full GPT-2 vocab, a qa_outputs head and the
 * demo model's tokenizer files ({@link TinyCheckpoints}).
 */
class TasksTest {
  static final String EMAIL = "Subject: cheap meds\nBuy now!!! Limited offer, click here to claim your prize.";
  static final String HAM = "Hi all,\nthe meeting moved to Tuesday; see the attached agenda.";

  @TempDir static Path tmp;
  static Path qaDir;

  @BeforeAll
  static void writeQaModel() {
    qaDir = TinyCheckpoints.write(tmp.resolve("qa-gpt2-vocab"), TinyCheckpoints.spec().with(s -> {
      s.vocab = 50257;
      s.eos = 50256;
      s.maxPositions = 128;
      s.qa = true;
    }));
    TinyCheckpoints.copyTokenizer(Goldens.demoModel(), qaDir);
  }

  static Engine demo() {
    return Engines.get(Goldens.demoModel(), EngineOptions.Kernels.AUTO);
  }

  static Gpt2Tokenizer tok() {
    return demo().tokenizer().orElseThrow();
  }

  @Test
  void classifyWithTheHeadGivesLabelsFromId2label() {
    List<ClassifyResult> r = demo().classify(List.of(Input.text(EMAIL), Input.text(HAM)), InputPolicy.DEFAULT);
    for (ClassifyResult c : r) {
      assertEquals(List.of("ham", "spam"), new ArrayList<>(c.probabilities.keySet()));
      assertEquals(1.0, c.probabilities.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
      assertEquals(c.logits[0] > c.logits[1] ? "ham" : "spam", c.label);
      assertEquals(c.label, List.of("ham", "spam").get(c.labelIndex));
    }
    assertEquals("spam", r.get(0).label);
    assertEquals("ham", r.get(1).label);
  }

  /** As HF's text-classification pipeline: problem_type picks softmax, sigmoid or the logits themselves. */
  @Test
  void classifyScoresFollowProblemType(@TempDir Path tmp) {
    float[] logits = demo().classify(List.of(Input.text(EMAIL)), InputPolicy.DEFAULT).get(0).logits;
    for (String type : new String[] {"multi_label_classification", "regression"}) {
      Path dir = TinyCheckpoints.copyModel(Goldens.demoModel(), tmp.resolve(type));
      TinyCheckpoints.writeConfig(dir, TinyCheckpoints.readConfig(dir).put("problem_type", type));
      try (Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build())) {
        ClassifyResult c = e.classify(List.of(Input.ids(tok().encode(EMAIL))), InputPolicy.DEFAULT).get(0);
        assertArrayEquals(logits, c.logits);
        assertEquals("spam", c.label);
        for (int i = 0; i < 2; i++) {
          double want = type.equals("regression") ? logits[i] : 1 / (1 + Math.exp(-logits[i]));
          assertEquals(want, c.probabilities.get(List.of("ham", "spam").get(i)), 1e-12, type);
        }
      }
    }
  }

  @Test
  void classifyPoolsAtTheLastNonPadTokenAsHfDoes() {
    // the demo's pad_token_id is 50256: trailing <|endoftext|> tokens do not move the pooling
    int[] ids = tok().encode(EMAIL);
    int[] padded = Arrays.copyOf(ids, ids.length + 3);
    Arrays.fill(padded, ids.length, padded.length, 50256);
    List<ClassifyResult> r = demo().classify(List.of(Input.ids(ids), Input.ids(padded), Input.text(EMAIL + "<|endoftext|>")),
        InputPolicy.DEFAULT);
    assertArrayEquals(r.get(0).logits, r.get(1).logits);
    assertArrayEquals(r.get(0).logits, r.get(2).logits);
    assertArrayEquals(new int[] {5, 6}, Engine.withoutTrailingPads(new int[] {5, 6, 9, 9}, 9));
    assertArrayEquals(new int[] {9}, Engine.withoutTrailingPads(new int[] {9, 9}, 9), "all pads: pool at 0");
    assertArrayEquals(new int[] {9, 5}, Engine.withoutTrailingPads(new int[] {9, 5}, 9));
    int[] same = {1, 2};
    assertTrue(same == Engine.withoutTrailingPads(same, -1), "no pad id: the last token");
  }

  @Test
  void zeroShotGivesProbabilitiesAndSumsLabelTokenLogProbs() {
    List<String> labels = List.of("spam", "ham", "a long label with several tokens", "two words");
    List<Input> rows = List.of(Input.text(EMAIL), Input.text(HAM));
    long fedBefore = demo().scheduler().tokensFed.get();
    List<ClassifyResult> r = demo().classifyZeroShot(rows, labels, InputPolicy.DEFAULT);
    long fed = demo().scheduler().tokensFed.get() - fedBefore;
    int textTokens = tok().encode(EMAIL).length + tok().encode(HAM).length;
    int labelTokens = labels.stream().mapToInt(l -> tok().encode(" " + l).length).sum();
    assertTrue(fed <= textTokens + 2L * labelTokens, "each text once: " + fed + " tokens through the model");
    // a KV budget of one row at a time: the rows run in waves, with the same bits
    try (Engine small = Engine.open(Goldens.demoModel(), EngineOptions.builder().kvCacheBytes(1).build())) {
      List<ClassifyResult> waves = small.classifyZeroShot(rows, labels, InputPolicy.DEFAULT);
      for (int row = 0; row < 2; row++) {
        assertArrayEquals(r.get(row).logits, waves.get(row).logits, "row " + row);
      }
    }
    for (int row = 0; row < 2; row++) {
      ClassifyResult c = r.get(row);
      assertNull(c.error);
      assertEquals(labels, new ArrayList<>(c.probabilities.keySet()));
      double sum = 0;
      for (double p : c.probabilities.values()) {
        assertTrue(p >= 0 && p <= 1);
        sum += p;
      }
      assertEquals(1.0, sum, 1e-9);
      int[] text = tok().encode(row == 0 ? EMAIL : HAM);
      for (int j = 0; j < labels.size(); j++) {
        int[] label = tok().encode(" " + labels.get(j)); // the label with a leading space, after the text
        int[] seq = Arrays.copyOf(text, text.length + label.length);
        System.arraycopy(label, 0, seq, text.length, label.length);
        double[] lp = demo().score(List.of(Input.ids(seq)), InputPolicy.DEFAULT).get(0).tokenLogprobs;
        double expected = 0;
        for (int t = lp.length - label.length; t < lp.length; t++) {
          expected += lp[t];
        }
        // the text runs once and each label continues from its cache: the same bits as the whole sequence
        assertEquals((float) expected, c.logits[j], "row " + row + " " + labels.get(j));
      }
    }
    String m = assertThrows(IllegalArgumentException.class,
        () -> demo().classifyZeroShot(List.of(Input.text(EMAIL)), List.of(), InputPolicy.DEFAULT)).getMessage();
    assertTrue(m.contains("at least one candidate label"), m);
    assertThrows(IllegalArgumentException.class,
        () -> demo().classifyZeroShot(List.of(Input.text(EMAIL)), List.of(" "), InputPolicy.DEFAULT));
    String twice = assertThrows(IllegalArgumentException.class, () -> demo().classifyZeroShot(
        List.of(Input.text(EMAIL)), List.of("spam", "ham", "spam"), InputPolicy.DEFAULT)).getMessage();
    assertTrue(twice.contains("'spam' is given twice"), twice);
  }

  @Test
  void embedMeanAndLastToken() {
    List<Input> in = List.of(Input.text(EMAIL), Input.text("word"), Input.text(HAM));
    List<EmbedResult> batch = demo().embed(in, InputPolicy.DEFAULT);
    EmbedResult single = batch.get(1);
    assertEquals(1, single.tokens);
    assertArrayEquals(single.lastToken, single.mean, 1e-6f, "one token: mean == last");
    EmbedResult e = batch.get(0);
    assertEquals(128, e.mean.length);
    assertEquals(tok().encode(EMAIL).length, e.tokens);
    assertTrue(!Arrays.equals(e.mean, e.lastToken));
    // the mean over the tokens equals the mean of each prefix's last-token state
    int[] ids = tok().encode(EMAIL);
    List<Input> prefixes = new ArrayList<>();
    for (int n = 1; n <= ids.length; n++) {
      prefixes.add(Input.ids(Arrays.copyOf(ids, n)));
    }
    float[] mean = new float[128];
    for (EmbedResult p : demo().embed(prefixes, InputPolicy.DEFAULT)) {
      for (int i = 0; i < 128; i++) {
        mean[i] += p.lastToken[i] / ids.length;
      }
    }
    assertArrayEquals(e.mean, mean, 1e-4f);
    for (int i = 0; i < in.size(); i++) {
      EmbedResult alone = demo().embed(List.of(in.get(i)), InputPolicy.DEFAULT).get(0);
      assertArrayEquals(alone.mean, batch.get(i).mean, 1e-5f, "row " + i + " alone vs batch");
      assertArrayEquals(alone.lastToken, batch.get(i).lastToken, 1e-5f);
    }
  }

  @Test
  void scoreGivesPerTokenLogProbsMeanAndPerplexity() {
    ScoreResult s = demo().score(List.of(Input.text(EMAIL)), InputPolicy.DEFAULT).get(0);
    int n = tok().encode(EMAIL).length;
    assertEquals(n - 1, s.tokenLogprobs.length);
    assertArrayEquals(tok().encode(EMAIL), s.inputIds);
    double sum = 0;
    for (double lp : s.tokenLogprobs) {
      assertTrue(lp <= 0);
      sum += lp;
    }
    assertEquals(sum / (n - 1), s.meanLogprob, 1e-12);
    assertEquals(Math.exp(-s.meanLogprob), s.perplexity, 1e-9);
    ScoreResult one = demo().score(List.of(Input.text("Hello")), InputPolicy.DEFAULT).get(0);
    assertNull(one.error);
    assertEquals(0, one.tokenLogprobs.length);
    assertTrue(Double.isNaN(one.meanLogprob) && Double.isNaN(one.perplexity));
  }

  @Test
  void answerWithTextGivesCharOffsetsIntoTheContext() {
    try (Engine e = Engine.open(qaDir, EngineOptions.builder().threads(1).build())) {
      String question = "Who wrote the letter?";
      String context = "The letter was written by Ada Lovelace in 1843, long before computers existed.";
      List<AnswerResult> r = e.answer(List.of(QaInput.of(question, context), QaInput.ids(tok().encode(context))), 5,
          InputPolicy.DEFAULT);
      AnswerResult a = r.get(0);
      assertNull(a.error);
      assertEquals(CodePoints.span(context, a.start, a.end), a.answer);
      int q = tok().encode(question).length;
      assertTrue(a.startToken >= q && a.endToken >= a.startToken && a.endToken - a.startToken < 5);
      int n = q + tok().encode(context).length;
      assertEquals(n, a.startLogits.length);
      assertEquals(n, a.endLogits.length);
      assertTrue(a.score > 0 && a.score <= 1);
      // the span is the best start + end over the context, within max_answer_tokens
      float best = Float.NEGATIVE_INFINITY;
      for (int s = q; s < n; s++) {
        for (int t = s; t < n && t - s < 5; t++) {
          best = Math.max(best, a.startLogits[s] + a.endLogits[t]);
        }
      }
      assertEquals(best, a.startLogits[a.startToken] + a.endLogits[a.endToken]);
      // token-id input: offsets are token indices, end inclusive; the answer is decoded
      AnswerResult ids = r.get(1);
      assertEquals(ids.startToken, ids.start);
      assertEquals(ids.endToken, ids.end);
      assertEquals(tok().decode(Arrays.copyOfRange(tok().encode(context), ids.start, ids.end + 1)), ids.answer);
      // rows
      List<AnswerResult> bad = e.answer(Arrays.asList(null, QaInput.of(question, ""), QaInput.of(null, context),
          QaInput.of(question, context)), 5, InputPolicy.DEFAULT);
      assertNull(bad.get(0));
      assertTrue(bad.get(1).error.contains("context is empty"), bad.get(1).error);
      assertTrue(bad.get(2).error.contains("both a question and a context"), bad.get(2).error);
      assertEquals(a.answer, bad.get(3).answer);
      assertThrows(IllegalArgumentException.class, () -> e.answer(List.of(QaInput.of(question, context)), 0,
          InputPolicy.DEFAULT));
    }
  }

  @Test
  void answerTruncatesTheContextNeverTheQuestion() {
    try (Engine e = Engine.open(qaDir, EngineOptions.builder().threads(1).build())) {
      String question = "Where?";
      String context = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho.";
      int q = tok().encode(question).length;
      int c = tok().encode(context).length;
      String err = e.answer(List.of(QaInput.of(question, context)), 5, new InputPolicy(10, Truncation.ERROR)).get(0)
          .error;
      assertTrue(err.contains("question + context have " + (q + c) + " tokens, more than the limit of 10"), err);
      for (Truncation t : new Truncation[] {Truncation.LEFT, Truncation.RIGHT}) {
        AnswerResult a = e.answer(List.of(QaInput.of(question, context)), 5, new InputPolicy(10, t)).get(0);
        assertNull(a.error);
        assertEquals(10, a.startLogits.length);
        assertEquals(CodePoints.span(context, a.start, a.end), a.answer, t + ": offsets index the original context");
        if (t == Truncation.LEFT) {
          assertTrue(a.start >= context.length() / 2, "the kept context is the end: " + a.start);
        }
      }
      String longQ = e.answer(List.of(QaInput.of(context, "x")), 5, new InputPolicy(10, Truncation.LEFT)).get(0).error;
      assertTrue(longQ.contains("question alone has"), longQ);
    }
  }

  /** A span that starts inside a multi-byte character is widened to the whole character. */
  @Test
  void answerOffsetsRoundToWholeCharacters() {
    String question = "Which face?";
    String context = "He sent 😀 and 🎉 to everyone in café Zürich";
    Engine demo = demo();
    QaEncoding enc = QaEncoding.of(QaInput.of(question, context), demo.tokenizer(), demo.config(),
        InputPolicy.DEFAULT);
    assertNotNull(enc);
    assertNull(enc.error);
    int split = -1; // a context token that starts with a UTF-8 continuation byte
    for (int i = 0; i < enc.contextIds.length; i++) {
      byte b = tok().tokenBytes(enc.contextIds[i])[0];
      if ((b & 0xC0) == 0x80) {
        split = i;
        break;
      }
    }
    assertTrue(split > 0, "the GPT-2 tokenizer splits the emoji");
    int s = enc.contextStart + split;
    float[] rows = new float[2 * enc.ids.length];
    rows[2 * s] = 10f;         // start logit
    rows[2 * (s + 1) + 1] = 10f; // end logit one token later
    AnswerResult a = enc.bestSpan(rows, 5, tok());
    assertEquals(s, a.startToken);
    assertEquals(CodePoints.span(context, a.start, a.end), a.answer);
    assertEquals(context.indexOf("😀"), a.start, "rounded down to the emoji");
    assertTrue(a.answer.startsWith("😀"), a.answer);
    // a span ending at the last token reaches the end of the context
    float[] tail = new float[2 * enc.ids.length];
    tail[2 * (enc.ids.length - 1)] = 10f;
    tail[2 * (enc.ids.length - 1) + 1] = 10f;
    AnswerResult end = enc.bestSpan(tail, 5, tok());
    assertEquals(context.codePointCount(0, context.length()), end.end, "code points, as Python and Spark SQL count");
    assertEquals(context.length() - 2, end.end, "two emoji: two code points fewer than UTF-16 chars");
    assertEquals(CodePoints.span(context, end.start, end.end), end.answer);
    assertTrue(context.endsWith(end.answer) && !end.answer.isEmpty(), end.answer);
  }

  /** As HF's fast tokenizer (ByteLevel trim_offsets): a span starting at " everyone" answers "everyone". */
  @Test
  void answerOffsetsLeaveOutTheFirstTokensSpace() {
    String context = "He sent 😀 and 🎉 to everyone in café Zürich";
    Engine demo = demo();
    QaEncoding enc = QaEncoding.of(QaInput.of("Who?", context), demo.tokenizer(), demo.config(), InputPolicy.DEFAULT);
    int at = -1;
    for (int i = 0; i < enc.contextIds.length; i++) {
      if (new String(tok().tokenBytes(enc.contextIds[i]), java.nio.charset.StandardCharsets.UTF_8).equals(" everyone")) {
        at = enc.contextStart + i;
      }
    }
    assertTrue(at > 0, "' everyone' is one GPT-2 token");
    float[] rows = new float[2 * enc.ids.length];
    rows[2 * at] = 10f;
    rows[2 * (at + 1) + 1] = 10f; // through " in"
    AnswerResult a = enc.bestSpan(rows, 5, tok());
    assertEquals("everyone in", a.answer);
    assertEquals(context.codePointCount(0, context.indexOf("everyone")), a.start);
    assertEquals(CodePoints.span(context, a.start, a.end), a.answer);
  }

  @Test
  void charRangeMapsUtf8BytesToChars() {
    String t = "aé😀b"; // bytes: a(1) é(2) 😀(4) b(1); chars: a é 😀(2) b
    assertArrayEquals(new int[] {0, 1}, QaEncoding.charRange(t, 0, 1));
    assertArrayEquals(new int[] {1, 2}, QaEncoding.charRange(t, 1, 3));
    assertArrayEquals(new int[] {1, 2}, QaEncoding.charRange(t, 2, 3), "mid-character start rounds down");
    assertArrayEquals(new int[] {2, 4}, QaEncoding.charRange(t, 3, 5), "mid-character end rounds up");
    assertArrayEquals(new int[] {4, 5}, QaEncoding.charRange(t, 7, 8));
    assertNull(QaEncoding.charRange(t, 7, 9), "beyond the text");
    // the offsets add up token bytes; an added token's bytes are its text, so they line up too
    assertArrayEquals("<|endoftext|>".getBytes(java.nio.charset.StandardCharsets.UTF_8), tok().tokenBytes(50256));
  }
}
