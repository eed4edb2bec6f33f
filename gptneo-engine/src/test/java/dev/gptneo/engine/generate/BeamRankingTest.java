package dev.gptneo.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gptneo.engine.ops.TokenChoice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * BeamSearch's two paths give the same search: ranking each beam's logits on the host, and
 * describing the beam for a backend that ranks (describeRanking) then merging the continuations it
 * returns, here ranked by {@link HostChoice#rank}, the reference the device kernel is held to
 * (KernelEmulationTest, CudaOpsVsCpuTest). And merging per-beam lists is the top-k over all beams.
 */
class BeamRankingTest {
  static final int VOCAB = 61;
  static final int[] EOS = {60};
  static final HostChoice HOST = new HostChoice(VOCAB);

  @Test
  void mergedListsAreTheTopOverAllBeams() {
    Random random = new Random(3);
    for (int trial = 0; trial < 300; trial++) {
      int beams = 1 + random.nextInt(5);
      int vocab = 1 + random.nextInt(12);
      int k = 1 + random.nextInt(2 * beams + 2);
      float[] all = new float[beams * vocab]; // (beams, vocab), few distinct values: ties, and -inf
      for (int i = 0; i < all.length; i++) {
        int v = random.nextInt(6);
        all[i] = v == 0 ? Float.NEGATIVE_INFINITY : v == 1 ? -0f : v - 3;
      }
      BeamRow[] ranked = new BeamRow[beams];
      for (int b = 0; b < beams; b++) {
        float[] row = Arrays.copyOfRange(all, b * vocab, (b + 1) * vocab);
        int[] ids = BeamSearch.topIndices(row, k);
        float[] scores = new float[ids.length];
        for (int j = 0; j < ids.length; j++) {
          scores[j] = row[ids[j]];
        }
        ranked[b] = BeamRow.ofRanked(scores, ids);
      }
      BeamRow merged = BeamSearch.mergeRanked(ranked, vocab, k);
      assertArrayEquals(BeamSearch.topIndices(all, k), merged.ids, "trial " + trial);
    }
  }

  @Test
  void describedRankingIsTheSearchsOwn() {
    Random random = new Random(11);
    TokenChoice choice = new TokenChoice(VOCAB, 1);
    for (GenerationParams p : settings()) {
      BeamSearch search = new BeamSearch(new int[] {5, 7, 5, 7, 9}, p, EOS, VOCAB, 100);
      assertTrue(search.ranksOnBackend());
      while (!search.done()) {
        List<float[]> logits = new ArrayList<>();
        for (int b : search.beamsToScore()) {
          float[] row = randomLogits(random);
          choice.clear();
          search.describeRanking(b, choice);
          BeamRow described = HOST.rank(choice, 0, row, 0);
          BeamRow own = search.rankOnHost(row.clone(), b);
          assertArrayEquals(own.ids, described.ids);
          assertArrayEquals(own.scores, described.scores);
          logits.add(row);
        }
        search.step(logits);
      }
    }
  }

  @Test
  void searchOnRankedRowsIsTheSearchOnLogits() {
    Random random = new Random(12);
    TokenChoice choice = new TokenChoice(VOCAB, 4);
    for (GenerationParams p : settings()) {
      BeamSearch onLogits = new BeamSearch(new int[] {5, 7, 5, 7, 9}, p, EOS, VOCAB, 100);
      BeamSearch onRanked = new BeamSearch(new int[] {5, 7, 5, 7, 9}, p, EOS, VOCAB, 100);
      while (!onLogits.done()) {
        assertFalse(onRanked.done());
        assertArrayEquals(onLogits.beamsToScore(), onRanked.beamsToScore());
        List<float[]> logits = new ArrayList<>();
        List<BeamRow> ranked = new ArrayList<>();
        choice.clear();
        for (int b : onRanked.beamsToScore()) {
          float[] row = randomLogits(random);
          logits.add(row);
          onRanked.describeRanking(b, choice);
          ranked.add(HOST.rank(choice, choice.rows() - 1, row, 0));
        }
        onLogits.step(logits);
        onRanked.stepRows(ranked);
        for (int b = 0; b < p.numBeams; b++) {
          assertArrayEquals(onLogits.sequence(b), onRanked.sequence(b));
        }
      }
      assertTrue(onRanked.done());
      for (int rank = 0; rank < p.numBeams; rank++) {
        assertArrayEquals(onLogits.completion(rank), onRanked.completion(rank));
      }
    }
  }

  /** Forcing and the length decay send only their steps to the host; the search is the same. */
  @Test
  void stepsThatNeedTheHostMixWithRankedSteps() {
    Random random = new Random(13);
    TokenChoice choice = new TokenChoice(VOCAB, 4);
    GenerationParams base = GenerationParams.builder().maxNewTokens(8).numBeams(3).build();
    for (GenerationParams p : List.of(base.toBuilder().forcedEosTokenIds(60).build(),
        base.toBuilder().exponentialDecayLengthPenalty(3, 1.5).build())) {
      BeamSearch onLogits = new BeamSearch(new int[] {5, 7, 9}, p, EOS, VOCAB, 100);
      BeamSearch mixed = new BeamSearch(new int[] {5, 7, 9}, p, EOS, VOCAB, 100);
      int ranked = 0;
      int host = 0;
      while (!onLogits.done()) {
        List<float[]> logits = new ArrayList<>();
        List<BeamRow> rows = new ArrayList<>();
        choice.clear();
        boolean onBackend = mixed.ranksOnBackend();
        for (int b : mixed.beamsToScore()) {
          float[] row = randomLogits(random);
          logits.add(row);
          if (onBackend) {
            mixed.describeRanking(b, choice);
            rows.add(HOST.rank(choice, choice.rows() - 1, row, 0));
          } else {
            rows.add(BeamRow.ofLogits(row.clone()));
          }
        }
        ranked += onBackend ? 1 : 0;
        host += onBackend ? 0 : 1;
        onLogits.step(logits);
        mixed.stepRows(rows);
      }
      assertTrue(mixed.done() && ranked > 0 && host > 0, ranked + " ranked steps, " + host + " on the host");
      for (int rank = 0; rank < p.numBeams; rank++) {
        assertArrayEquals(onLogits.completion(rank), mixed.completion(rank));
      }
    }
  }

  @Test
  void samplingRanksOnTheHost() {
    GenerationParams base = GenerationParams.builder().numBeams(2).maxNewTokens(4).build();
    assertFalse(new BeamSearch(new int[] {1}, base.toBuilder().doSample(true).build(), EOS, VOCAB, 100)
        .ranksOnBackend());
    assertTrue(new BeamSearch(new int[] {1}, base.toBuilder().renormalizeLogits(true).build(), EOS, VOCAB, 100)
        .ranksOnBackend(), "renormalizing is a flag of the ranked row");
    TokenChoice choice = new TokenChoice(VOCAB, 1);
    new BeamSearch(new int[] {1}, base.toBuilder().numBeams(40).build(), EOS, VOCAB, 100).describeRanking(0, choice);
    assertEquals(VOCAB, choice.topK(0), "at most the vocab");
  }

  private static List<GenerationParams> settings() {
    GenerationParams base = GenerationParams.builder().maxNewTokens(12).numBeams(3).build();
    return List.of(base,
        base.toBuilder().numBeams(4).numReturnSequences(4).lengthPenalty(0.5).build(),
        base.toBuilder().repetitionPenalty(1.6).noRepeatNgramSize(2).minNewTokens(6).build(),
        base.toBuilder().repetitionPenalty(0.7).earlyStopping("true").build(),
        base.toBuilder().sequenceBias(new int[][] {{4}, {5, 7}, {7}}, new double[] {-2, 1.5, 0.75})
            .repetitionPenalty(1.2).build(),
        base.toBuilder().numBeams(2).suppressTokens(0, 1).beginSuppressTokens(60, 2)
            .badWordsIds(new int[] {3}, new int[] {5, 7}).earlyStopping("never").build(),
        // renormalized after the edits: the bans' mass goes back to the others (HF's renormalize_logits)
        base.toBuilder().renormalizeLogits(true).repetitionPenalty(1.5).noRepeatNgramSize(1).lengthPenalty(-1)
            .build(),
        base.toBuilder().renormalizeLogits(true).suppressTokens(3, 4).minNewTokens(5).build());
  }

  /** Few distinct values (ties) among small gaussians, and eos winning now and then. */
  private static float[] randomLogits(Random random) {
    float[] row = new float[VOCAB];
    for (int i = 0; i < VOCAB; i++) {
      row[i] = random.nextInt(6) == 0 ? 3f + random.nextInt(2) : (float) random.nextGaussian();
    }
    return row;
  }
}
