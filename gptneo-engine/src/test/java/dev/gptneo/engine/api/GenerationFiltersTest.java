package dev.gptneo.engine.api;

import static dev.gptneo.engine.api.GenerationTest.FREE;
import static dev.gptneo.engine.api.GenerationTest.ONCE;
import static dev.gptneo.engine.api.GenerationTest.demo;
import static dev.gptneo.engine.api.GenerationTest.one;
import static dev.gptneo.engine.api.GenerationTest.sampling;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.GenerationParams;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HF's suppress_tokens, begin_suppress_tokens, bad_words_ids, min_p and the cutoffs through the demo model. */
class GenerationFiltersTest {
  static final GenerationParams GREEDY = GenerationParams.builder().maxNewTokens(12).build();

  static boolean contains(int[] ids, int id) {
    return Arrays.stream(ids).anyMatch(t -> t == id);
  }

  @Test
  void suppressedTokensNeverAppearAndTheFirstTokenCanBeSuppressedAlone() {
    for (String prompt : List.of(ONCE, FREE)) {
      int[] free = one(demo(), Input.text(prompt), GREEDY).completionIds;
      int first = free[0];
      int[] banned = {first, free[1]};
      int[] suppressed = one(demo(), Input.text(prompt), GREEDY.toBuilder().suppressTokens(banned).build())
          .completionIds;
      assertFalse(contains(suppressed, banned[0]) || contains(suppressed, banned[1]), Arrays.toString(suppressed));
      int[] atBegin = one(demo(), Input.text(prompt), GREEDY.toBuilder().beginSuppressTokens(first).build())
          .completionIds;
      assertNotEquals(first, atBegin[0]);
      // beam search applies the same processors
      GenerateResult beams = one(demo(), Input.text(prompt), GREEDY.toBuilder().numBeams(3).numReturnSequences(3)
          .suppressTokens(banned).build());
      for (GenerateResult b : beams.sequences) {
        assertFalse(contains(b.completionIds, banned[0]) || contains(b.completionIds, banned[1]));
      }
    }
  }

  /** A two-token bad word: its first token may come, never followed by its second; beams too. */
  @Test
  void aBadWordIsNeverCompleted() {
    for (String prompt : List.of(ONCE, FREE)) {
      int[] free = one(demo(), Input.text(prompt), GREEDY).completionIds;
      int[] word = {free[0], free[1]};
      int[] plain = one(demo(), Input.text(prompt), GREEDY.toBuilder().badWordsIds(word).build()).completionIds;
      assertTrue(plain[0] == word[0] && plain[1] != word[1], Arrays.toString(plain));
      GenerateResult beams = one(demo(), Input.text(prompt), GREEDY.toBuilder().numBeams(3).numReturnSequences(3)
          .badWordsIds(word).build());
      GenerateResult outside = demo().generate(List.of(Input.text(prompt)), GREEDY.toBuilder()
          .badWordsIds(new int[] {50257}).build(), InputPolicy.DEFAULT).get(0);
      assertTrue(!outside.ok() && outside.error.contains("bad_words_ids holds token id 50257, outside the model's"
          + " vocabulary of 50257"), String.valueOf(outside.error));
      for (GenerateResult b : beams.sequences) {
        for (int i = 0; i + 1 < b.completionIds.length; i++) {
          assertFalse(b.completionIds[i] == word[0] && b.completionIds[i + 1] == word[1]);
        }
      }
    }
  }

  /** A large bias makes greedy pick its token every step; a steep length decay ends at the second token. */
  @Test
  void sequenceBiasAndLengthDecayShapeGreedyCompletions() {
    int[] biased = one(demo(), Input.text(ONCE), GREEDY.toBuilder()
        .sequenceBias(new int[][] {{262}}, new double[] {1000}).build()).completionIds;
    assertTrue(Arrays.stream(biased).allMatch(t -> t == 262), Arrays.toString(biased));
    GenerateResult decayed = one(demo(), Input.text(ONCE), GREEDY.toBuilder().exponentialDecayLengthPenalty(0, 1e6)
        .build());
    assertTrue(decayed.completionTokens == 2 && decayed.finishReason == dev.gptneo.engine.generate.FinishReason.EOS,
        decayed.completionTokens + " " + decayed.finishReason);
  }

  /** forced_eos_token_id ends at max_new_tokens; forced_bos_token_id starts a one-token prompt; renormalizing. */
  @Test
  void forcedTokensAndRenormalizedLogits() {
    GenerateResult eos = one(demo(), Input.text(ONCE), GREEDY.toBuilder().maxNewTokens(5).forcedEosTokenIds(50256)
        .build());
    assertTrue(eos.completionTokens == 5 && eos.completionIds[4] == 50256
        && eos.finishReason == dev.gptneo.engine.generate.FinishReason.EOS, Arrays.toString(eos.completionIds));
    GenerateResult other = one(demo(), Input.text(ONCE), GREEDY.toBuilder().maxNewTokens(5).forcedEosTokenIds(262)
        .build());
    assertTrue(other.completionIds[4] == 262 && other.finishReason == dev.gptneo.engine.generate.FinishReason.LENGTH);
    GenerateResult bos = one(demo(), Input.ids(new int[] {464}), GREEDY.toBuilder().forcedBosTokenId(50256)
        .build());
    assertEquals(50256, bos.completionIds[0]);
    int[] two = {464, 318}; // a longer prompt is not forced, as in HF (cur_len == 1 only)
    assertArrayEquals(one(demo(), Input.ids(two), GREEDY.toBuilder().maxNewTokens(3).build()).completionIds,
        one(demo(), Input.ids(two), GREEDY.toBuilder().maxNewTokens(3).forcedBosTokenId(13).build()).completionIds);
    GenerateResult plain = one(demo(), Input.text(FREE), GREEDY.toBuilder().logprobs(true).build());
    GenerateResult renormalized = one(demo(), Input.text(FREE), GREEDY.toBuilder().logprobs(true)
        .renormalizeLogits(true).build());
    assertArrayEquals(plain.completionIds, renormalized.completionIds);
    for (int i = 0; i < plain.completionTokens; i++) {
      assertEquals(plain.tokenLogprobs[i], renormalized.tokenLogprobs[i], 1e-5);
    }
  }

  /** min_p 1 and epsilon 0.999 keep only the most likely token: sampling then decodes greedily. */
  @Test
  void filtersThatKeepOnlyTheTopTokenSampleTheGreedyCompletion() {
    for (String prompt : List.of(ONCE, FREE)) {
      int[] greedy = one(demo(), Input.text(prompt), GREEDY).completionIds;
      for (GenerationParams p : List.of(sampling(3, 12).toBuilder().topK(0).minP(1.0).build(),
          sampling(4, 12).toBuilder().topK(0).temperature(1.7).epsilonCutoff(0.999).build())) {
        assertArrayEquals(greedy, one(demo(), Input.text(prompt), p).completionIds, p.toString());
      }
    }
  }

  /** Looser filters change samples, not determinism: the same seed gives the same completion. */
  @Test
  void filteredSamplesAreSeededAndLogprobsSeeTheFilteredDistribution() {
    GenerationParams p = sampling(9, 12).toBuilder().topK(0).minP(0.05).etaCutoff(0.0009).logprobs(true).build();
    GenerateResult a = one(demo(), Input.text(ONCE), p);
    GenerateResult b = one(demo(), Input.text(ONCE), p);
    assertArrayEquals(a.completionIds, b.completionIds);
    GenerateResult unfiltered = one(demo(), Input.text(ONCE), p.toBuilder().minP(0).etaCutoff(0).build());
    // the first token's distribution loses mass to the filters, so its renormalized logprob can only grow
    if (a.completionIds[0] == unfiltered.completionIds[0]) {
      assertTrue(a.tokenLogprobs[0] >= unfiltered.tokenLogprobs[0], a.tokenLogprobs[0] + " < "
          + unfiltered.tokenLogprobs[0]);
    }
  }
}
