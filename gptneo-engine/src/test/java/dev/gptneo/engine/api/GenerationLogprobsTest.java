package dev.gptneo.engine.api;

import static dev.gptneo.engine.api.GenerationTest.FREE;
import static dev.gptneo.engine.api.GenerationTest.ONCE;
import static dev.gptneo.engine.api.GenerationTest.demo;
import static dev.gptneo.engine.api.GenerationTest.one;
import static dev.gptneo.engine.api.GenerationTest.sampling;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.generate.GenerationParams;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** logprobs: each generated token's log-probability under the distribution it was chosen from. */
class GenerationLogprobsTest {

  /**
   * Greedy with no processing: the log-softmax of the raw logits, so the same numbers, bit for
   * bit, as scoring the prompt and completion together (prefill instead of decode steps).
   */
  @Test
  void greedyLogprobsAreTheScoreOfTheCompletion() {
    GenerationParams greedy = GenerationParams.builder().maxNewTokens(14).logprobs(true).build();
    for (String prompt : List.of(ONCE, FREE)) {
      GenerateResult r = one(demo(), Input.text(prompt), greedy);
      int[] prompted = demo().tokenizer().orElseThrow().encode(prompt);
      int[] all = IntStream.concat(IntStream.of(prompted), IntStream.of(r.completionIds)).toArray();
      ScoreResult s = demo().score(List.of(Input.ids(all)), InputPolicy.DEFAULT).get(0);
      assertEquals(r.completionTokens, r.tokenLogprobs.length);
      for (int i = 0; i < r.completionTokens; i++) {
        assertEquals(s.tokenLogprobs[prompted.length + i - 1], r.tokenLogprobs[i], 0.0, prompt + ", token " + i);
      }
      GenerateResult plain = one(demo(), Input.text(prompt), greedy.toBuilder().logprobs(false).build());
      assertArrayEquals(plain.completionIds, r.completionIds, "asking for logprobs changes no token");
      assertNull(plain.tokenLogprobs);
    }
  }

  /** Sampling: over the warped distribution (temperature, top-k, top-p), so never -inf, and the ids unchanged. */
  @Test
  void sampledLogprobsAreOverTheWarpedDistribution() {
    GenerationParams p = sampling(4, 12).toBuilder().topK(5).logprobs(true).numReturnSequences(2).build();
    GenerateResult r = one(demo(), Input.text(ONCE), p);
    GenerateResult plain = one(demo(), Input.text(ONCE), p.toBuilder().logprobs(false).build());
    for (int j = 0; j < 2; j++) {
      GenerateResult s = r.sequences.get(j);
      assertArrayEquals(plain.sequences.get(j).completionIds, s.completionIds);
      for (double lp : s.tokenLogprobs) {
        // at most 5 tokens share the probability: the chosen one's is finite and at most 0
        assertTrue(lp <= 0 && lp > Double.NEGATIVE_INFINITY, "logprob " + lp);
      }
    }
    assertArrayEquals(r.sequences.get(0).tokenLogprobs, r.tokenLogprobs);
    IllegalArgumentException beams = assertThrows(IllegalArgumentException.class,
        () -> GenerationParams.builder().numBeams(2).logprobs(true).build());
    assertTrue(beams.getMessage().contains("beam search"), beams.getMessage());
  }
}
