package dev.gptneo.engine.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.FinishReason;
import dev.gptneo.engine.generate.GenerationParams;
import dev.gptneo.engine.testing.Engines;
import dev.gptneo.engine.testing.Goldens;
import dev.gptneo.engine.testing.TinyCheckpoints;
import dev.gptneo.engine.tokenizer.Gpt2Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generation semantics: greedy, seeded sampling in any batch, stops, eos, lengths. */
class GenerationTest {
  static final String FREE = "FREE!!! Click here to claim your prize"; // HF greedy ends on eos after 14 tokens
  static final String ONCE = "Once upon a time";

  static Engine demo() {
    return Engines.get(Goldens.demoModel(), EngineOptions.Kernels.AUTO);
  }

  static Gpt2Tokenizer tok() {
    return demo().tokenizer().orElseThrow();
  }

  static GenerateResult one(Engine e, Input in, GenerationParams p) {
    GenerateResult r = e.generate(List.of(in), p, InputPolicy.DEFAULT).get(0);
    assertNull(r.error);
    return r;
  }

  static GenerationParams greedy(int n) {
    return GenerationParams.builder().maxNewTokens(n).build();
  }

  static GenerationParams sampling(long seed, int n) {
    return GenerationParams.builder().maxNewTokens(n).doSample(true).temperature(0.9).topK(40).topP(0.95).seed(seed)
        .build();
  }

  @Test
  void defaultsAreHuggingFaces() {
    GenerationParams d = GenerationParams.DEFAULT;
    assertEquals(64, d.maxNewTokens);
    assertEquals(0, d.minNewTokens);
    assertFalse(d.doSample);
    assertEquals(1.0, d.temperature);
    assertEquals(50, d.topK);
    assertEquals(1.0, d.topP);
    assertEquals(1.0, d.repetitionPenalty);
    assertEquals(0, d.noRepeatNgramSize);
    assertTrue(d.stopStrings.isEmpty());
    assertEquals(0, d.stopTokenIds.length);
    assertEquals(d, d.toBuilder().build());
  }

  @Test
  void invalidParamsNameTheSetting() {
    String[][] cases = {
        {"max_new_tokens", "0"}, {"min_new_tokens", "-1"}, {"temperature", "0"}, {"top_k", "-1"}, {"top_p", "-0.5"},
        {"top_p", "1.5"}, {"repetition_penalty", "0"}, {"no_repeat_ngram_size", "-2"}, {"stop strings", ""}};
    for (String[] c : cases) {
      GenerationParams.Builder b = GenerationParams.builder().maxNewTokens(5).doSample(true);
      double v = c[1].isEmpty() ? 0 : Double.parseDouble(c[1]);
      switch (c[0]) {
        case "max_new_tokens": b.maxNewTokens((int) v); break;
        case "min_new_tokens": b.minNewTokens((int) v); break;
        case "temperature": b.temperature(v); break;
        case "top_k": b.topK((int) v); break;
        case "top_p": b.topP(v); break;
        case "repetition_penalty": b.repetitionPenalty(v); break;
        case "no_repeat_ngram_size": b.noRepeatNgramSize((int) v); break;
        default: b.addStopString("");
      }
      String m = assertThrows(IllegalArgumentException.class, b::build).getMessage();
      assertTrue(m.contains(c[0]), c[0] + ": " + m);
    }
  }

  @Test
  void greedyIsDeterministicAndTextDecodesTheCompletion() {
    GenerateResult a = one(demo(), Input.text(ONCE), greedy(12));
    GenerateResult b = one(demo(), Input.text(ONCE), greedy(12));
    assertArrayEquals(a.completionIds, b.completionIds);
    assertEquals(12, a.completionTokens);
    assertEquals(FinishReason.LENGTH, a.finishReason);
    assertEquals(tok().encode(ONCE).length, a.promptTokens);
    assertEquals(tok().decode(a.completionIds), a.text);
    assertTrue(a.text.startsWith(", the man's eyes"), a.text); // HF's greedy text (demo_golden.json)
  }

  @Test
  void seededSamplingGivesTheSameTextAloneInABatchAndInAnyOrder() {
    Engine e = demo();
    List<Input> prompts = List.of(Input.text(ONCE), Input.text(FREE), Input.text("The president of the United States"),
        Input.text("Hi all,\nI have a question"));
    List<GenerationParams> params = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      params.add(sampling(100 + i, 16));
    }
    List<int[]> alone = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      alone.add(one(e, prompts.get(i), params.get(i)).completionIds);
    }
    List<GenerateResult> batch = e.generate(prompts, params, InputPolicy.DEFAULT);
    List<Input> reversed = new ArrayList<>(prompts);
    List<GenerationParams> reversedParams = new ArrayList<>(params);
    java.util.Collections.reverse(reversed);
    java.util.Collections.reverse(reversedParams);
    List<GenerateResult> backwards = e.generate(reversed, reversedParams, InputPolicy.DEFAULT);
    for (int i = 0; i < prompts.size(); i++) {
      assertArrayEquals(alone.get(i), batch.get(i).completionIds, "prompt " + i + " in a batch");
      assertArrayEquals(alone.get(i), backwards.get(prompts.size() - 1 - i).completionIds, "prompt " + i + " reversed");
    }
    // and on an engine that cuts prompts into small chunks and runs fewer sequences per step
    try (Engine small = Engine.open(Goldens.demoModel(),
        EngineOptions.builder().threads(1).maxBatchTokens(5).maxBatchSequences(2).build())) {
      List<GenerateResult> chunked = small.generate(prompts, params, InputPolicy.DEFAULT);
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(alone.get(i), chunked.get(i).completionIds, "prompt " + i + " chunked");
      }
    }
  }

  @Test
  void differentSeedsGiveDifferentSamples() {
    Set<String> seen = new HashSet<>();
    for (long seed = 1; seed <= 4; seed++) {
      seen.add(Arrays.toString(one(demo(), Input.text(ONCE), sampling(seed, 10)).completionIds));
    }
    assertTrue(seen.size() >= 3, "4 seeds gave only " + seen.size() + " distinct samples");
    GenerationParams hot = GenerationParams.builder().maxNewTokens(10).doSample(true).seed(1).build();
    assertFalse(Arrays.equals(one(demo(), Input.text(ONCE), greedy(10)).completionIds,
        one(demo(), Input.text(ONCE), hot).completionIds), "sampling at temperature 1 is not greedy");
  }

  @Test
  void topK1SamplingEqualsGreedy() {
    GenerationParams k1 = GenerationParams.builder().maxNewTokens(12).doSample(true).topK(1).temperature(1.7).seed(9)
        .build();
    assertArrayEquals(one(demo(), Input.text(ONCE), greedy(12)).completionIds,
        one(demo(), Input.text(ONCE), k1).completionIds);
  }

  @Test
  void eosEndsGenerationAndIsIncludedInCompletionIds() {
    GenerateResult r = one(demo(), Input.text(FREE), greedy(40));
    assertEquals(FinishReason.EOS, r.finishReason);
    assertEquals(14, r.completionTokens);
    assertEquals(50256, r.completionIds[13]);
    assertTrue(r.text.endsWith("<|endoftext|>"), r.text); // HF decodes with special tokens kept
  }

  /** skip_special_tokens changes the text only, as HF's decode(..., skip_special_tokens=True); beams too. */
  @Test
  void skipSpecialTokensLeavesEosOutOfTheTextOnly() {
    String eos = "<|endoftext|>";
    for (GenerationParams p : List.of(greedy(64), GenerationParams.builder().numBeams(2).maxNewTokens(64).build())) {
      String prompt = p.numBeams > 1 ? "Thanks" : FREE; // both end on eos (beams: after 55 tokens)
      GenerateResult kept = one(demo(), Input.text(prompt), p);
      GenerateResult skipped = one(demo(), Input.text(prompt), p.toBuilder().skipSpecialTokens(true).build());
      assertEquals(FinishReason.EOS, kept.finishReason, p.toString());
      assertArrayEquals(kept.completionIds, skipped.completionIds);
      assertEquals(kept.finishReason, skipped.finishReason);
      assertTrue(kept.text.endsWith(eos), kept.text);
      assertEquals(kept.text.substring(0, kept.text.length() - eos.length()), skipped.text, p.toString());
    }
  }

  @Test
  void minNewTokensSuppressesEos() {
    GenerateResult r = one(demo(), Input.text(FREE), GenerationParams.builder().maxNewTokens(18).minNewTokens(18)
        .build());
    assertEquals(FinishReason.LENGTH, r.finishReason);
    assertEquals(18, r.completionTokens);
    for (int id : r.completionIds) {
      assertTrue(id != 50256, "eos before min_new_tokens");
    }
    // up to the old eos position the tokens are the greedy ones
    int[] greedy = one(demo(), Input.text(FREE), greedy(40)).completionIds;
    assertArrayEquals(Arrays.copyOf(greedy, 13), Arrays.copyOf(r.completionIds, 13));
  }

  @Test
  void stopStringStopsAfterTheTokenThatCompletesIt() {
    int[] g = one(demo(), Input.text(ONCE), greedy(30)).completionIds;
    for (String stop : new String[] {"man's", "ey", "\nHe"}) {
      int k = 1;
      while (!tok().decode(Arrays.copyOf(g, k)).contains(stop)) {
        k++;
      }
      GenerateResult r = one(demo(), Input.text(ONCE), GenerationParams.builder().maxNewTokens(30).addStopString(stop)
          .build());
      assertEquals(FinishReason.STOP, r.finishReason, stop);
      assertArrayEquals(Arrays.copyOf(g, k), r.completionIds, stop);
      assertTrue(r.text.contains(stop), r.text);
      assertFalse(tok().decode(Arrays.copyOf(g, k - 1)).contains(stop));
    }
    // the earliest of several stop strings wins; a stop string never generated changes nothing
    GenerateResult both = one(demo(), Input.text(ONCE),
        GenerationParams.builder().maxNewTokens(30).stopStrings(List.of("zebra", "eyes")).build());
    assertTrue(both.text.endsWith("eyes"), both.text);
    GenerateResult never = one(demo(), Input.text(ONCE), GenerationParams.builder().maxNewTokens(30)
        .addStopString("zebra").build());
    assertEquals(FinishReason.LENGTH, never.finishReason);
    assertArrayEquals(g, never.completionIds);
  }

  /** As HF's StopStringCriteria: a stop string may start in the prompt; it must end in generated text. */
  @Test
  void stopStringMayBeginInThePrompt() {
    GenerateResult r = one(demo(), Input.text(ONCE), GenerationParams.builder().maxNewTokens(10).addStopString("time,")
        .build());
    assertEquals(FinishReason.STOP, r.finishReason);
    assertEquals(1, r.completionTokens);
    assertEquals(",", r.text);
    GenerateResult inPrompt = one(demo(), Input.text(ONCE), GenerationParams.builder().maxNewTokens(10)
        .addStopString("upon").build());
    assertEquals(FinishReason.LENGTH, inPrompt.finishReason, "a stop string wholly inside the prompt does not stop");
  }

  @Test
  void stopTokenIdsStopAfterTheToken() {
    int[] g = one(demo(), Input.text(ONCE), greedy(20)).completionIds;
    int stopId = g[4];
    int first = 0;
    while (g[first] != stopId) {
      first++;
    }
    GenerateResult r = one(demo(), Input.text(ONCE), GenerationParams.builder().maxNewTokens(20)
        .stopTokenIds(12345, stopId).build());
    assertEquals(FinishReason.STOP, r.finishReason);
    assertArrayEquals(Arrays.copyOf(g, first + 1), r.completionIds);
  }

  @Test
  void maxNewTokensGivesLength() {
    for (int n : new int[] {1, 5}) {
      GenerateResult r = one(demo(), Input.text(ONCE), greedy(n));
      assertEquals(n, r.completionTokens);
      assertEquals(FinishReason.LENGTH, r.finishReason);
    }
  }

  @Test
  void generationStopsAtMaxPositionEmbeddings(@TempDir Path tmp) {
    // tiny-neo has 256 positions; an eos that is never generated keeps the run going
    Path dir = TinyCheckpoints.copyModel(Goldens.path("golden/tiny-neo/causal-lm"), tmp.resolve("tiny"));
    TinyCheckpoints.writeConfig(dir, TinyCheckpoints.readConfig(dir).put("eos_token_id", 5000));
    int[] prompt = new int[250];
    for (int i = 0; i < prompt.length; i++) {
      prompt[i] = (i * 37) % 997;
    }
    try (Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build())) {
      // as HF: the last token is never fed, so a sequence holds one token past the 256 positions
      GenerateResult r = one(e, Input.ids(prompt), greedy(20));
      assertEquals(FinishReason.LENGTH, r.finishReason);
      assertEquals(7, r.completionTokens, "250 + 7 = 257 tokens, positions 0..255 fed");
      GenerateResult huge = one(e, Input.ids(prompt), greedy(Integer.MAX_VALUE));
      assertEquals(7, huge.completionTokens, "max_new_tokens near 2^31 does not overflow");
      GenerateResult last = one(e, Input.ids(Arrays.copyOf(prompt, 255)), greedy(20));
      assertEquals(2, last.completionTokens);
      int[] full = new int[256];
      for (int i = 0; i < full.length; i++) {
        full[i] = (i * 37) % 997;
      }
      GenerateResult fills = one(e, Input.ids(full), greedy(20));
      assertEquals(1, fills.completionTokens, "a prompt that fills every position gives one token");
      assertEquals(FinishReason.LENGTH, fills.finishReason);
      GenerateResult beams = one(e, Input.ids(prompt), greedy(20).toBuilder().numBeams(2).build());
      assertEquals(7, beams.completionTokens, "beams too");
    }
  }

  @Test
  void everyEosIdOfAListEndsGeneration(@TempDir Path tmp) {
    Engine tiny = Engines.get(Goldens.path("golden/tiny-neo/causal-lm"), EngineOptions.Kernels.AUTO);
    int[] prompt = {5, 6, 7, 8, 9};
    int[] g = one(tiny, Input.ids(prompt), greedy(12)).completionIds;
    Path dir = TinyCheckpoints.copyModel(Goldens.path("golden/tiny-neo/causal-lm"), tmp.resolve("tiny"));
    var config = TinyCheckpoints.readConfig(dir);
    config.putArray("eos_token_id").add(4000).add(g[3]);
    TinyCheckpoints.writeConfig(dir, config);
    int first = 0;
    while (g[first] != g[3]) {
      first++;
    }
    try (Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build())) {
      GenerateResult r = one(e, Input.ids(prompt), greedy(12));
      assertEquals(FinishReason.EOS, r.finishReason);
      assertArrayEquals(Arrays.copyOf(g, first + 1), r.completionIds, "eos included");
      assertNull(r.text, "tiny-neo has no tokenizer");
      GenerateResult min = one(e, Input.ids(prompt), GenerationParams.builder().maxNewTokens(12).minNewTokens(12)
          .build());
      assertEquals(12, min.completionTokens);
      for (int id : min.completionIds) {
        assertTrue(id != g[3] && id != 4000);
      }
    }
  }

  /**
   * generation_config.json's eos_token_id replaces config.json's, as in HF: it ends generation (as
   * eos, not as a stop id), min_new_tokens bans it, and config.json's eos no longer ends anything.
   */
  @Test
  void generationConfigEosReplacesTheModelsEos(@TempDir Path tmp) throws java.io.IOException {
    Engine tiny = Engines.get(Goldens.path("golden/tiny-neo/causal-lm"), EngineOptions.Kernels.AUTO);
    int[] prompt = {5, 6, 7, 8, 9};
    int[] g = one(tiny, Input.ids(prompt), greedy(12)).completionIds;
    Path dir = TinyCheckpoints.copyModel(Goldens.path("golden/tiny-neo/causal-lm"), tmp.resolve("tiny"));
    TinyCheckpoints.writeConfig(dir, TinyCheckpoints.readConfig(dir).put("eos_token_id", g[0]));
    java.nio.file.Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": " + g[3] + "}");
    int first = 0;
    while (g[first] != g[3]) {
      first++;
    }
    try (Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build())) {
      GenerationParams file = e.generationDefaults().params;
      assertArrayEquals(new int[] {g[3]}, file.eosTokenIds);
      assertArrayEquals(new int[0], file.stopTokenIds);
      GenerateResult r = one(e, Input.ids(prompt), file.toBuilder().maxNewTokens(12).build());
      assertEquals(FinishReason.EOS, r.finishReason);
      assertArrayEquals(Arrays.copyOf(g, first + 1), r.completionIds, "config.json's eos (g[0]) does not stop");
      GenerateResult min = one(e, Input.ids(prompt), file.toBuilder().maxNewTokens(12).minNewTokens(12).build());
      assertEquals(12, min.completionTokens);
      assertTrue(Arrays.stream(min.completionIds).noneMatch(id -> id == g[3]), "min_new_tokens bans the file's eos");
      GenerateResult model = one(e, Input.ids(prompt), greedy(12));
      assertEquals(FinishReason.EOS, model.finishReason);
      assertArrayEquals(new int[] {g[0]}, model.completionIds, "without the file's settings: config.json's eos");
    }
    java.nio.file.Files.writeString(dir.resolve("generation_config.json"), "{\"max_new_tokens\": 12}");
    try (Engine e = Engine.open(dir, EngineOptions.builder().threads(1).build())) {
      GenerateResult none = one(e, Input.ids(prompt), e.generationDefaults().params);
      assertEquals(FinishReason.LENGTH, none.finishReason, "a file without eos_token_id: no eos, as HF");
      assertArrayEquals(g, none.completionIds);
    }
  }

  /**
   * Beam searches keep a KV cache per beam, reserved from the engine's KV budget: with a budget
   * too small for two searches they run one after another, with the same ids; and each step feeds
   * one token per beam.
   */
  @Test
  void beamSearchesAndZeroShotShareTheKvBudget() {
    List<Input> rows = List.of(Input.text(FREE), Input.text(ONCE), Input.text("The meeting on Friday"));
    GenerationParams beams = GenerationParams.builder().numBeams(3).maxNewTokens(12).build();
    Engine shared = demo();
    long fedBefore = shared.scheduler().tokensFed.get();
    List<GenerateResult> together = shared.generate(rows, beams, InputPolicy.DEFAULT);
    long fed = shared.scheduler().tokensFed.get() - fedBefore;
    int promptTokens = together.stream().mapToInt(r -> r.promptTokens).sum();
    assertTrue(fed <= promptTokens + 3L * 3 * 12, "tokens through the model: " + fed);
    try (Engine small = Engine.open(Goldens.demoModel(), EngineOptions.builder().kvCacheBytes(1).build())) {
      List<GenerateResult> oneByOne = small.generate(rows, beams, InputPolicy.DEFAULT);
      for (int i = 0; i < rows.size(); i++) {
        assertNull(oneByOne.get(i).error);
        assertArrayEquals(together.get(i).completionIds, oneByOne.get(i).completionIds, "row " + i);
      }
      // while others hold the budget, a cancelled (interrupted) caller stops waiting for it
      assertTrue(small.scheduler().tryReserveCaches(1000));
      Thread.currentThread().interrupt();
      List<GenerateResult> cancelled = small.generate(rows, beams, InputPolicy.DEFAULT);
      assertTrue(Thread.interrupted());
      small.scheduler().releaseCaches(1000);
      for (GenerateResult r : cancelled) {
        assertTrue(r.error != null && r.error.contains("interrupted"), String.valueOf(r.error));
      }
      List<ClassifyResult> zeroShot = small.classifyZeroShot(rows, List.of("spam", "ham"), InputPolicy.DEFAULT);
      assertTrue(small.scheduler().tryReserveCaches(1000));
      Thread.currentThread().interrupt();
      List<ClassifyResult> zeroShotCancelled = small.classifyZeroShot(rows, List.of("spam", "ham"),
          InputPolicy.DEFAULT);
      assertTrue(Thread.interrupted());
      small.scheduler().releaseCaches(1000);
      for (int i = 0; i < rows.size(); i++) {
        assertNull(zeroShot.get(i).error);
        assertTrue(zeroShotCancelled.get(i).error.contains("interrupted"), zeroShotCancelled.get(i).error);
      }
    }
  }
}
