package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Per-row behaviour on the demo model: null in, null out; bad rows get an error naming the
 * problem, and never disturb the other rows of the same call; truncation as HF's truncation_side.
 */
class RowsTest {
  static final String TEXT = "The quick brown fox jumps over the lazy dog.";

  static Engine demo() {
    return Engines.get(Goldens.demoModel(), EngineOptions.Kernels.AUTO);
  }

  static int[] tokens(String text) {
    return demo().tokenizer().orElseThrow().encode(text);
  }

  static final GenerationParams TWO = GenerationParams.builder().maxNewTokens(2).build();

  @Test
  void nullInputGivesANullResultInEveryTask() {
    Engine e = demo();
    List<Input> in = Arrays.asList(null, Input.text(TEXT), Input.text(null), Input.ids(null));
    for (Function<List<Input>, List<? extends Result>> task : List.<Function<List<Input>, List<? extends Result>>>of(
        x -> e.generate(x, TWO, InputPolicy.DEFAULT),
        x -> e.classify(x, InputPolicy.DEFAULT),
        x -> e.classifyZeroShot(x, List.of("spam", "ham"), InputPolicy.DEFAULT),
        x -> e.embed(x, InputPolicy.DEFAULT),
        x -> e.score(x, InputPolicy.DEFAULT),
        x -> e.tokenize(x, InputPolicy.DEFAULT))) {
      List<? extends Result> out = task.apply(in);
      assertEquals(4, out.size());
      assertNull(out.get(0));
      assertNotNull(out.get(1));
      assertNull(out.get(1).error);
      assertNull(out.get(2));
      assertNull(out.get(3));
    }
  }

  @Test
  void emptyTextAndEmptyIdsAreRowErrors() {
    List<Input> in = List.of(Input.text(""), Input.ids(new int[0]), Input.text(TEXT));
    List<GenerateResult> out = demo().generate(in, TWO, InputPolicy.DEFAULT);
    for (int i = 0; i < 2; i++) {
      assertTrue(out.get(i).error.contains("empty (0 tokens)"), out.get(i).error);
      assertNull(out.get(i).completionIds);
    }
    assertNull(out.get(2).error);
    assertTrue(demo().score(in, InputPolicy.DEFAULT).get(0).error.contains("empty"));
    assertTrue(demo().embed(in, InputPolicy.DEFAULT).get(0).error.contains("empty"));
    // tokenizing is not running the model: an empty text simply has no tokens
    assertEquals(0, demo().tokenize(in, InputPolicy.DEFAULT).get(0).inputIds.length);
    assertTrue(demo().classify(in, InputPolicy.DEFAULT).get(1).error.contains("empty"));
  }

  @Test
  void tooLongPromptWithTruncationErrorNamesTheLengthAndTheLimit() {
    int n = tokens(TEXT).length; // 10
    InputPolicy policy = new InputPolicy(4, Truncation.ERROR);
    String m = demo().generate(List.of(Input.text(TEXT)), TWO, policy).get(0).error;
    assertTrue(m.contains(n + " tokens") && m.contains("limit of 4") && m.contains("max_input_tokens 4")
        && m.contains("truncation"), m);
    String s = demo().score(List.of(Input.text(TEXT)), policy).get(0).error;
    assertTrue(s.contains(n + " tokens") && s.contains("limit of 4"), s);
  }

  @Test
  void defaultLimitIsTheModelsPositions() {
    // tiny-neo: max_position_embeddings 256; a generate prompt may fill them (its last row gives a token, as HF)
    Engine tiny = Engines.get(Goldens.path("golden/tiny-neo/causal-lm"), EngineOptions.Kernels.AUTO);
    int[] ids = new int[256];
    Arrays.fill(ids, 7);
    GenerateResult full = tiny.generate(List.of(Input.ids(ids)), TWO, InputPolicy.DEFAULT).get(0);
    assertNull(full.error);
    assertEquals(1, full.completionTokens, "one token past the positions, then length");
    assertNull(tiny.score(List.of(Input.ids(ids)), InputPolicy.DEFAULT).get(0).error, "scoring may use all 256");
    int[] more = new int[257];
    String g = tiny.generate(List.of(Input.ids(more)), TWO, InputPolicy.DEFAULT).get(0).error;
    assertTrue(g.contains("257 tokens") && g.contains("limit of 256") && g.contains("max_position_embeddings 256"), g);
    String s = tiny.score(List.of(Input.ids(more)), InputPolicy.DEFAULT).get(0).error;
    assertTrue(s.contains("257 tokens") && s.contains("limit of 256"), s);
    // max_input_tokens above the model's limit is capped at it
    String capped = tiny.score(List.of(Input.ids(more)), new InputPolicy(5000, Truncation.ERROR)).get(0).error;
    assertTrue(capped.contains("limit of 256"), capped);
  }

  @Test
  void leftKeepsTheLastTokensAndRightTheFirst() {
    int[] all = tokens(TEXT);
    InputPolicy left = new InputPolicy(4, Truncation.LEFT);
    InputPolicy right = new InputPolicy(4, Truncation.RIGHT);
    assertArrayEquals(Arrays.copyOfRange(all, all.length - 4, all.length),
        demo().tokenize(List.of(Input.text(TEXT)), left).get(0).inputIds);
    assertArrayEquals(Arrays.copyOf(all, 4), demo().tokenize(List.of(Input.text(TEXT)), right).get(0).inputIds);
    // generation sees the truncated prompt: same as giving those ids directly
    GenerateResult l = demo().generate(List.of(Input.text(TEXT)), TWO, left).get(0);
    GenerateResult direct = demo().generate(List.of(Input.ids(Arrays.copyOfRange(all, all.length - 4, all.length))),
        TWO, InputPolicy.DEFAULT).get(0);
    assertEquals(4, l.promptTokens);
    assertArrayEquals(direct.completionIds, l.completionIds);
    // short inputs are untouched
    assertArrayEquals(all, demo().tokenize(List.of(Input.text(TEXT)), new InputPolicy(50, Truncation.RIGHT)).get(0).inputIds);
  }

  @Test
  void idsOutsideTheVocabAreRowErrors() {
    List<Input> in = List.of(Input.ids(new int[] {1, 50257}), Input.ids(new int[] {-1}), Input.ids(new int[] {464, 2068}));
    List<ScoreResult> out = demo().score(in, InputPolicy.DEFAULT);
    assertTrue(out.get(0).error.contains("token id 50257 is outside the vocabulary [0, 50257)"), out.get(0).error);
    assertTrue(out.get(1).error.contains("token id -1"), out.get(1).error);
    assertNull(out.get(2).error);
  }

  @Test
  void oneBadRowDoesNotAffectTheOthers() {
    Engine e = demo();
    List<Input> good = List.of(Input.text(TEXT), Input.text("Hello there"), Input.ids(new int[] {464, 2068, 7586}));
    List<Input> mixed = Arrays.asList(Input.text(""), good.get(0), Input.ids(new int[] {99999}), good.get(1), null,
        good.get(2), Input.text(TEXT + TEXT));
    InputPolicy policy = new InputPolicy(12, Truncation.ERROR);
    List<GenerateResult> alone = e.generate(good, TWO, policy);
    List<GenerateResult> withBad = e.generate(mixed, TWO, policy);
    assertNotNull(withBad.get(0).error);
    assertNotNull(withBad.get(2).error);
    assertNull(withBad.get(4));
    assertTrue(withBad.get(6).error.contains("20 tokens"), withBad.get(6).error);
    for (int[] pair : new int[][] {{0, 1}, {1, 3}, {2, 5}}) {
      assertNull(withBad.get(pair[1]).error);
      assertArrayEquals(alone.get(pair[0]).completionIds, withBad.get(pair[1]).completionIds);
    }
    List<EmbedResult> embAlone = e.embed(good, policy);
    List<EmbedResult> embMixed = e.embed(mixed, policy);
    assertArrayEquals(embAlone.get(1).mean, embMixed.get(3).mean, 1e-6f);
  }

  @Test
  void policyAndParamsValidation() {
    String m = assertThrows(IllegalArgumentException.class, () -> new InputPolicy(-1, Truncation.LEFT)).getMessage();
    assertTrue(m.contains("max_input_tokens"), m);
    assertEquals(Truncation.ERROR, new InputPolicy(0, null).truncation);
    assertEquals(Truncation.LEFT, Truncation.parse(" Left "));
    String t = assertThrows(IllegalArgumentException.class, () -> Truncation.parse("middle")).getMessage();
    assertTrue(t.contains("error, left, right") && t.contains("'middle'"), t);
    assertEquals(5, new InputPolicy(5, Truncation.ERROR).limit(100));
    assertEquals(100, new InputPolicy(0, Truncation.ERROR).limit(100));
    assertEquals(100, new InputPolicy(500, Truncation.ERROR).limit(100));
    String sizes = assertThrows(IllegalArgumentException.class,
        () -> demo().generate(List.of(Input.text("a")), List.of(TWO, TWO), InputPolicy.DEFAULT)).getMessage();
    assertTrue(sizes.contains("1 inputs but 2"), sizes);
  }

  @Test
  void tokenizeIsNotLimitedByTheModelContext() {
    String longText = "word ".repeat(3000);
    TokenizeResult r = demo().tokenize(List.of(Input.text(longText)), InputPolicy.DEFAULT).get(0);
    assertNull(r.error);
    assertTrue(r.inputIds.length > 3000, "longer than the 2048 positions of the model");
    TokenizeResult cut = demo().tokenize(List.of(Input.text(longText)), new InputPolicy(10, Truncation.ERROR)).get(0);
    assertTrue(cut.error.contains("max_input_tokens 10"), cut.error);
  }
}
