package dev.gptneo.engine.api;

import static dev.gptneo.engine.api.GenerationTest.ONCE;
import static dev.gptneo.engine.api.GenerationTest.demo;
import static dev.gptneo.engine.api.GenerationTest.one;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.FinishReason;
import dev.gptneo.engine.generate.GenerationParams;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Rules of transformers 5.17's generate() that an audit of its source found (generation/utils.py:
 * _prepare_generated_length, _validate_generated_length, _get_logits_processor, _beam_search).
 */
class HfGenerateRulesTest {
  private static final int PROMPT = 4; // tokens of ONCE ("Once upon a time")

  private static GenerateResult run(GenerationParams p) {
    return one(demo(), Input.text(ONCE), p);
  }

  @Test
  void thePromptHasFourTokens() {
    assertEquals(PROMPT, run(GenerationParams.builder().maxNewTokens(1).build()).promptTokens);
  }

  /** max_new_tokens given anywhere wins over max_length; a prompt at max_length fails the row. */
  @Test
  void maxNewTokensWinsAndAFullMaxLengthFails() {
    assertEquals(6, run(GenerationParams.builder().maxLength(PROMPT + 6).build()).completionTokens);
    assertEquals(3, run(GenerationParams.builder().maxNewTokens(3).maxLength(PROMPT + 6).build()).completionTokens);
    assertEquals(3, run(GenerationParams.builder().maxLength(PROMPT + 6).maxNewTokens(3).build()).completionTokens,
        "order does not matter");
    GenerationParams file = GenerationParams.builder().maxNewTokens(5).build(); // as a generation_config.json's
    assertEquals(5, run(file.toBuilder().maxLength(PROMPT + 9).build()).completionTokens,
        "a file's max_new_tokens wins over a call's max_length, as in HF");
    GenerateResult full = demo().generate(List.of(Input.text(ONCE)), GenerationParams.builder().maxLength(PROMPT)
        .build(), InputPolicy.DEFAULT).get(0);
    assertFalse(full.ok());
    assertTrue(full.error.contains("the prompt has 4 tokens but max_length is 4") && full.error.contains(
        "set max_new_tokens"), full.error);
    assertThrows(IllegalArgumentException.class, () -> GenerationParams.builder().maxLength(3).build().forPrompt(3));
  }

  /** min_new_tokens given wins over min_length, even when smaller; above max_new_tokens it bans eos throughout. */
  @Test
  void minNewTokensWinsAndMayExceedMaxNewTokens() {
    GenerationParams both = GenerationParams.builder().maxNewTokens(20).minLength(PROMPT + 15).minNewTokens(2)
        .build();
    assertEquals(2, both.forPrompt(PROMPT).minNewTokens);
    assertEquals(15, GenerationParams.builder().minLength(PROMPT + 15).build().forPrompt(PROMPT).minNewTokens);
    GenerationParams over = GenerationParams.builder().maxNewTokens(6).minNewTokens(100).eosTokenIds(13, 11)
        .build(); // HF warns about this and bans eos to the end
    GenerateResult r = run(over);
    assertEquals(6, r.completionTokens);
    assertTrue(Arrays.stream(r.completionIds).noneMatch(t -> t == 13 || t == 11), Arrays.toString(r.completionIds));
  }

  /** As HF, sampling settings are checked only when sampling: a greedy temperature of 0 is no error. */
  @Test
  void samplingSettingsMatterOnlyWhenSampling() {
    GenerationParams greedy = GenerationParams.builder().maxNewTokens(5).temperature(0).topP(7).typicalP(0).build();
    assertArrayEquals(run(GenerationParams.builder().maxNewTokens(5).build()).completionIds,
        run(greedy).completionIds);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> greedy.toBuilder().doSample(true).build());
    assertTrue(e.getMessage().contains("temperature must be > 0"), e.getMessage());
    GenerationParams topOnly = GenerationParams.builder().maxNewTokens(5).doSample(true).topP(0).seed(3).build();
    assertArrayEquals(run(GenerationParams.builder().maxNewTokens(5).build()).completionIds,
        run(topOnly).completionIds, "top_p 0 keeps only the most likely token, as HF");
  }

  /** transformers 5's top_h: a tiny bound keeps only the likeliest token, so sampling gives the greedy ids. */
  @Test
  void topHWithATinyBoundSamplesTheGreedyCompletion() {
    GenerationParams greedy = GenerationParams.builder().maxNewTokens(8).build();
    GenerationParams tiny = greedy.toBuilder().doSample(true).topH(1e-9).seed(5).build();
    assertArrayEquals(run(greedy).completionIds, run(tiny).completionIds);
    assertFalse(tiny.needsHostChoice(1, 0), "the GPU chooses it (choose_tokens' top_h)");
    GenerationParams wide = greedy.toBuilder().doSample(true).topH(1.0).temperature(2.0).seed(5).build();
    boolean differs = false;
    for (long seed = 5; seed < 12 && !differs; seed++) {
      differs = !Arrays.equals(run(greedy).completionIds, run(wide.toBuilder().seed(seed).build()).completionIds);
    }
    assertTrue(differs, "a wide bound keeps choices");
    assertThrows(IllegalArgumentException.class, () -> wide.toBuilder().topH(1.5).build());
  }

  /** A sequence listed twice in sequence_bias keeps its last bias (HF builds a dict of them). */
  @Test
  void aRepeatedBiasedSequenceKeepsItsLastBias() {
    GenerationParams twice = GenerationParams.builder().sequenceBias(new int[][] {{5}, {7, 8}, {5}},
        new double[] {1.0, -2.0, 3.5}).build();
    assertEquals(2, twice.biasedSequences.length);
    assertArrayEquals(new int[] {7, 8}, twice.biasedSequences[0]);
    assertArrayEquals(new int[] {5}, twice.biasedSequences[1]);
    assertArrayEquals(new double[] {-2.0, 3.5}, twice.sequenceBiases);
  }

  /** HF's begin_index moves one token on when a one-token prompt gets a forced bos first. */
  @Test
  void beginSuppressionFollowsAForcedBos() {
    GenerationParams forced = GenerationParams.builder().maxNewTokens(4).forcedBosTokenId(464).build();
    int[] plain = one(demo(), Input.ids(new int[] {50256}), forced).completionIds;
    assertEquals(464, plain[0]);
    int[] suppressed = one(demo(), Input.ids(new int[] {50256}), forced.toBuilder().beginSuppressTokens(plain[1])
        .build()).completionIds;
    assertEquals(464, suppressed[0]);
    assertNotEquals(plain[1], suppressed[1], "banned at the second new token, after the forced bos");
    for (GenerationParams beams : List.of(forced.toBuilder().numBeams(2).beginSuppressTokens(plain[1]).build())) {
      int[] ids = one(demo(), Input.ids(new int[] {50256}), beams).completionIds;
      assertTrue(ids[0] == 464 && ids[1] != plain[1], Arrays.toString(ids));
    }
  }

  /** As HF's GenerationConfig.validate(): forcing only suppressed tokens is refused. */
  @Test
  void forcingOnlySuppressedTokensIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GenerationParams.builder().forcedEosTokenIds(5, 6).suppressTokens(6, 5, 9).build());
    assertTrue(e.getMessage().contains("every forced token [5, 6] is also in suppress_tokens"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> GenerationParams.builder().forcedBosTokenId(3).suppressTokens(3).build());
    GenerationParams.builder().forcedEosTokenIds(5, 6).suppressTokens(6).build(); // one left: fine
  }

  /** Stop strings and stop token ids do not combine with beams: refused rather than ignored. */
  @Test
  void beamsRefuseStopTokenIds() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GenerationParams.builder().numBeams(2).stopTokenIds(13).build());
    assertTrue(e.getMessage().contains("not supported with num_beams > 1"), e.getMessage());
  }

  /**
   * HF's beam sampling (do_sample with num_beams): seeded per row, so the same in any batch; and at a
   * temperature near 0 the draws follow the scores, so it gives beam search's hypotheses.
   */
  @Test
  void beamSampling() {
    GenerationParams beams = GenerationParams.builder().maxNewTokens(10).numBeams(3).numReturnSequences(3).build();
    GenerationParams cold = beams.toBuilder().doSample(true).temperature(1e-5).seed(1).build();
    GenerateResult greedy = run(beams);
    GenerateResult sampled = run(cold);
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(greedy.sequences.get(i).completionIds, sampled.sequences.get(i).completionIds);
    }
    GenerationParams warm = beams.toBuilder().doSample(true).temperature(1.5).topK(20).seed(7).build();
    int[] alone = run(warm).completionIds;
    List<GenerateResult> batch = demo().generate(List.of(Input.text("The meeting"), Input.text(ONCE)),
        List.of(warm, warm), InputPolicy.DEFAULT);
    assertArrayEquals(alone, batch.get(1).completionIds, "the same in a batch");
    boolean differs = false;
    for (long seed = 8; seed < 14 && !differs; seed++) {
      differs = !Arrays.equals(alone, run(warm.toBuilder().seed(seed).build()).completionIds);
    }
    assertTrue(differs, "the seed matters");
    assertTrue(run(warm).finishReason == FinishReason.LENGTH || run(warm).finishReason == FinishReason.EOS);
  }
}
