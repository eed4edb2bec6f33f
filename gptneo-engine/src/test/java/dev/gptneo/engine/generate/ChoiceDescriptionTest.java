package dev.gptneo.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.gptneo.engine.ops.TokenChoice;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * GenerateJob's two paths give the same tokens: choosing on the host from the logits (accept), and
 * describing the row for a backend that chooses (describeChoice) then receiving the token
 * (acceptToken), here with {@link HostChoice} in the backend's place. So the device, compared with
 * HostChoice elsewhere, is compared with GenerateJob itself. The same for logprobs.
 */
class ChoiceDescriptionTest {
  static final int VOCAB = 97;
  static final int[] EOS = {96, 3};

  @Test
  void describedRowsChooseAsTheHostPath() {
    GenerationParams base = GenerationParams.builder().maxNewTokens(40).build();
    GenerationParams[] settings = {
        base,
        base.toBuilder().repetitionPenalty(1.7).noRepeatNgramSize(2).minNewTokens(10).build(),
        base.toBuilder().repetitionPenalty(0.6).noRepeatNgramSize(1).build(),
        base.toBuilder().doSample(true).seed(5).build(), // top_k 50
        base.toBuilder().doSample(true).seed(6).topK(0).topP(0.8).temperature(0.7).build(),
        base.toBuilder().doSample(true).seed(7).topK(3).topP(0.5).repetitionPenalty(1.3).noRepeatNgramSize(3)
            .minNewTokens(40).build(),
        base.toBuilder().doSample(true).seed(8).topK(200).temperature(2.5).repetitionPenalty(1.2).build(),
        base.toBuilder().doSample(true).seed(9).topK(1).build(),
        base.toBuilder().doSample(true).seed(10).topK(0).topP(1e-9).build(),
        // suppressed ids: the few that win most (4-6 are the large logits' values' ids too), and eos at first
        base.toBuilder().suppressTokens(0, 1, 2, 500).beginSuppressTokens(96, 3, 4).build(),
        base.toBuilder().doSample(true).seed(11).topK(5).suppressTokens(7, 8).beginSuppressTokens(9).build(),
        base.toBuilder().badWordsIds(new int[] {0}, new int[] {1, 2}, new int[] {2, 1}, new int[] {96},
            new int[] {5, 9, 3, 96, 4}).build(),
        base.toBuilder().logprobs(true).repetitionPenalty(1.3).suppressTokens(4).build(),
        base.toBuilder().logprobs(true).doSample(true).seed(12).topK(20).topP(0.7).temperature(0.8).build(),
        base.toBuilder().logprobs(true).doSample(true).seed(13).topK(0).build(),
        base.toBuilder().doSample(true).seed(14).minP(0.2).build(),
        // sequence biases: one-token ones every step, longer ones where the sequence ends with their start;
        // two on one token sum in float; a bias on a penalized token comes first
        base.toBuilder().sequenceBias(new int[][] {{4}, {7, 5}, {5, 9}, {9}, {9}, {96}}, new double[] {-3, 2.5, 1.25,
            0.5, 0.25, 4}).repetitionPenalty(1.4).build(),
        base.toBuilder().doSample(true).seed(16).topK(10).sequenceBias(new int[][] {{5}, {3, 4}}, new double[] {3, -2})
            .build(),
        base.toBuilder().logprobs(true).doSample(true).seed(15).topK(0).topP(0.9).minP(0.05).temperature(1.5).build(),
        // the cutoffs after min_p, each over what the one before left
        base.toBuilder().logprobs(true).doSample(true).seed(17).topK(0).epsilonCutoff(0.004).build(),
        base.toBuilder().doSample(true).seed(18).topK(40).etaCutoff(0.02).temperature(1.3).build(),
        base.toBuilder().logprobs(true).doSample(true).seed(19).topK(0).topP(0.95).minP(0.01).epsilonCutoff(0.002)
            .etaCutoff(0.005).build(),
        // typical_p may drop the most likely token: the filters after it see a new max
        base.toBuilder().logprobs(true).doSample(true).seed(20).topK(0).typicalP(0.6).build(),
        base.toBuilder().doSample(true).seed(21).topK(30).typicalP(0.9).epsilonCutoff(0.01).temperature(0.7).build(),
        base.toBuilder().logprobs(true).doSample(true).seed(22).topK(0).topH(0.6).build(),
        base.toBuilder().doSample(true).seed(23).topK(20).topH(0.9).temperature(1.4).minP(0.05).build(),
    };
    assertDescribedRowsChooseAsTheHostPath(settings, 0);
  }

  /**
   * Renormalizing (a log-softmax after the warpers) moves neither a greedy or sampled token nor its
   * log-probability, which is taken over the processed logits anyway: a backend's table leaves it out.
   * The log-probabilities differ by the host's extra roundings (a few float ulps of values below 16).
   */
  @Test
  void renormalizingRowsChooseAsTheHostPath() {
    GenerationParams base = GenerationParams.builder().maxNewTokens(40).renormalizeLogits(true).logprobs(true).build();
    assertDescribedRowsChooseAsTheHostPath(new GenerationParams[] {
        base,
        base.toBuilder().repetitionPenalty(1.4).suppressTokens(4).build(),
        base.toBuilder().doSample(true).seed(30).topK(0).build(),
        base.toBuilder().doSample(true).seed(31).topK(12).topP(0.8).temperature(0.7).build(),
        base.toBuilder().doSample(true).seed(32).topK(0).minP(0.05).etaCutoff(0.01).build(),
    }, 8 * Math.ulp(16f));
  }

  private static void assertDescribedRowsChooseAsTheHostPath(GenerationParams[] settings, double logprobTolerance) {
    Random random = new Random(42);
    HostChoice host = new HostChoice(VOCAB);
    TokenChoice choice = new TokenChoice(VOCAB, 1);
    for (int s = 0; s < settings.length; s++) {
      int[] prompt = {5, 7, 5, 7, 5, 9, 3, 96};
      GenerateJob onHost = new GenerateJob(prompt, 64, settings[s], EOS, null);
      GenerateJob described = new GenerateJob(prompt, 64, settings[s], EOS, null);
      GenerateJob.Output a = null;
      GenerateJob.Output b = null;
      for (int step = 0; a == null; step++) {
        float[] logits = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
          // few distinct values: ties, and a few tokens that win often enough to repeat
          logits[i] = random.nextInt(8) == 0 ? 4f + random.nextInt(3) : (float) random.nextGaussian();
        }
        onHost.accept(0, logits, 0, VOCAB);
        choice.clear();
        described.describeChoice(0, choice);
        assertEquals(1, choice.rows());
        int token = host.choose(choice, 0, logits, 0);
        assertEquals(settings[s].logprobs, choice.logprob(0), "setting " + s);
        described.acceptToken(0, token, choice.logprob(0) ? host.logprob() : Double.NaN);
        a = onHost.afterStep();
        b = described.afterStep();
        assertEquals(a == null, b == null, "setting " + s + " step " + step);
      }
      assertNotNull(b);
      assertArrayEquals(a.completionIds, b.completionIds, "setting " + s);
      assertEquals(a.finishReason, b.finishReason, "setting " + s);
      if (logprobTolerance == 0) {
        assertArrayEquals(a.tokenLogprobs, b.tokenLogprobs, "setting " + s);
      } else {
        assertArrayEquals(a.tokenLogprobs, b.tokenLogprobs, logprobTolerance, "setting " + s);
      }
    }
  }

  @Test
  void settingsTheTableCannotCarryChooseOnTheHost() {
    GenerationParams sampling = GenerationParams.builder().doSample(true).build();
    int[] prompt = {5, 7};
    assertEquals(true, new GenerateJob(prompt, 8, sampling, EOS, null).backendMayChoose());
    assertEquals(true, new GenerateJob(prompt, 8, sampling.toBuilder().topH(0.5).minP(0.1).typicalP(0.9)
        .epsilonCutoff(0.01).etaCutoff(0.01).build(), EOS, null).backendMayChoose(), "the warpers run on the backend");
    assertEquals(false, new GenerateJob(prompt, 8, sampling.toBuilder().typicalP(1 - 1e-9).build(), EOS, null)
        .backendMayChoose(), "a typical_p whose float is 1");
    assertEquals(true, new GenerateJob(prompt, 8, sampling.toBuilder().renormalizeLogits(true).build(), EOS, null)
        .backendMayChoose(), "renormalizing moves no token");
    // forcing and the length decay need the host at their steps only
    GenerationParams forcedEos = GenerationParams.builder().maxNewTokens(4).forcedEosTokenIds(3).build();
    assertEquals(true, forcedEos.needsHostChoice(5, 3) && !forcedEos.needsHostChoice(4, 2));
    GenerationParams forcedBos = GenerationParams.builder().forcedBosTokenId(1).build();
    assertEquals(true, forcedBos.needsHostChoice(1, 0) && !forcedBos.needsHostChoice(2, 0));
    GenerationParams decay = GenerationParams.builder().exponentialDecayLengthPenalty(3, 1.1).build();
    assertEquals(true, decay.needsHostChoice(6, 4) && !decay.needsHostChoice(5, 3));
    assertEquals(true, new GenerateJob(prompt, 8, GenerationParams.builder().sequenceBias(new int[][] {{4}},
        new double[] {1}).build(), EOS, null).backendMayChoose(), "sequence biases run on the backend");
    // HF applies the warpers only when sampling: greedy rows with them set still choose on the backend
    GenerationParams greedy = GenerationParams.builder().minP(0.1).etaCutoff(0.01).build();
    assertEquals(true, new GenerateJob(prompt, 8, greedy, EOS, null).backendMayChoose());
    // logprobs come back from the backend with the tokens
    assertEquals(true, new GenerateJob(prompt, 8, sampling.toBuilder().logprobs(true).build(), EOS, null)
        .backendMayChoose());
  }

  /**
   * A job whose settings need the host at some steps only (forcing, the length decay) gives the host
   * path's tokens when a backend chooses the other steps: the scheduler asks backendMayChoose each step.
   */
  @Test
  void stepsThatNeedTheHostMixWithStepsOnTheBackend() {
    GenerationParams base = GenerationParams.builder().maxNewTokens(12).minNewTokens(12).build();
    GenerationParams[] settings = {
        base.toBuilder().forcedEosTokenIds(96, 3).build(),
        base.toBuilder().exponentialDecayLengthPenalty(4, 1.6).minNewTokens(3).build(),
        base.toBuilder().forcedBosTokenId(7).repetitionPenalty(1.3).build(),
        base.toBuilder().doSample(true).seed(4).topK(20).forcedEosTokenIds(5).logprobs(true).build(),
    };
    Random random = new Random(7);
    HostChoice host = new HostChoice(VOCAB);
    TokenChoice choice = new TokenChoice(VOCAB, 1);
    for (int s = 0; s < settings.length; s++) {
      int[] prompt = s == 2 ? new int[] {5} : new int[] {5, 7, 5, 9};
      GenerateJob onHost = new GenerateJob(prompt, 64, settings[s], EOS, null);
      GenerateJob mixed = new GenerateJob(prompt, 64, settings[s], EOS, null);
      GenerateJob.Output a = null;
      GenerateJob.Output b = null;
      int onBackend = 0;
      int hostSteps = 0;
      while (a == null) {
        float[] logits = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
          // eos near the top where it is forced; where it decays, far below until the decay's second
          // step turns its sign (s + |s| (1.6^2 - 1))
          boolean eos = i == 3 || i == 96;
          logits[i] = (float) random.nextGaussian() + (eos ? (s == 1 ? -8f : 2f) : 0f);
        }
        onHost.accept(0, logits, 0, VOCAB);
        if (mixed.backendMayChoose()) {
          choice.clear();
          mixed.describeChoice(0, choice);
          int token = host.choose(choice, 0, logits, 0);
          mixed.acceptToken(0, token, choice.logprob(0) ? host.logprob() : Double.NaN);
          onBackend++;
        } else {
          mixed.accept(0, logits, 0, VOCAB);
          hostSteps++;
        }
        a = onHost.afterStep();
        b = mixed.afterStep();
      }
      assertNotNull(b);
      assertArrayEquals(a.completionIds, b.completionIds, "setting " + s);
      assertArrayEquals(a.tokenLogprobs, b.tokenLogprobs, "setting " + s);
      assertEquals(true, onBackend > 0 && hostSteps > 0, "setting " + s + ": " + onBackend + " + " + hostSteps);
    }
  }

  @Test
  void theTableKeepsEachRowsListsAndDropsIdsOutsideTheVocab() {
    TokenChoice c = new TokenChoice(10, 1);
    c.addGreedy();
    c.penalize(2f, new int[] {1, 12, 3}, 3);
    c.ban(4);
    c.ban(-1);
    int r = c.addSampled(0.5f, 3, 0.9, 0.25);
    c.ban(9);
    c.ban(10);
    c.addGreedy();
    assertEquals(3, c.rows());
    assertEquals(2, c.penaltyTo(0) - c.penaltyFrom(0));
    assertEquals(3, c.penaltyId(1));
    assertEquals(1, c.banTo(0) - c.banFrom(0));
    assertEquals(1, r);
    assertEquals(0, c.penaltyTo(1) - c.penaltyFrom(1));
    assertEquals(1f, c.penalty(1));
    assertEquals(9, c.banId(c.banFrom(1)));
    assertEquals(1, c.banTo(1) - c.banFrom(1));
    assertEquals(0, c.banTo(2) - c.banFrom(2));
    c.truncate(1);
    assertEquals(1, c.rows());
    assertEquals(1, c.banCount());
    c.clear();
    assertEquals(0, c.rows());
  }
}
